"""The notify service's schedule, run by nameko's worker_factory."""

import pytest

from services.notify.service import NotifyService
from worker_support import ACTOR, CAMPAIGN_DATA, envelope, service_worker


@pytest.fixture
def worker(tmp_path):
    service, database = service_worker(NotifyService, "notify", tmp_path)
    service.on_campaign_created(envelope("campaign_created", CAMPAIGN_DATA))
    yield service
    database.dispose()


class TestNotifyWorker:
    def test_campaign_gets_its_schedule(self, worker):
        schedule = worker.schedule(ACTOR, CAMPAIGN_DATA["campaign_id"])
        kinds = {occurrence["kind"] for occurrence in schedule["occurrences"]}
        assert {"funds_due", "handout", "weekly_report", "redemption_deadline",
                "joint_audit", "clearing"} <= kinds

    def test_replayed_campaign_adds_nothing(self, worker):
        first = worker.schedule(ACTOR, CAMPAIGN_DATA["campaign_id"])
        worker.on_campaign_created(envelope("campaign_created", CAMPAIGN_DATA))
        again = worker.schedule(ACTOR, CAMPAIGN_DATA["campaign_id"])
        assert len(again["occurrences"]) == len(first["occurrences"])
