"""The reporting service's handlers and reads, run by nameko's worker_factory."""

import pytest

from aixin.errors import Forbidden, InvalidInput, NotFound
from aixin.outbox import build_event
from services.reporting.service import ReportingService
from tests.integration.reporting.campaign_events import (
    CAMPAIGN_ID, EAST, WEST, at, campaign_events)
from worker_support import ACTOR, service_worker

ADMIN = {"role": "admin", "scope": None, "name": "系统管理员", "token_id": "t0",
         "correlation_id": "c0"}
EAST_TOWNSHIP = {"role": "township", "scope": EAST, "name": "东镇经办人",
                 "token_id": "t4", "correlation_id": "c4"}
MERCHANT = {"role": "merchant", "scope": "91411100MA00000001", "name": "爱心超市",
            "token_id": "t5", "correlation_id": "c5"}


def feed(service, items) -> list[dict]:
    """Apply each event through its handler, as the broker would deliver it."""
    envelopes = [build_event(event_type, data, at(3, 25)) for event_type, data in items]
    for envelope in envelopes:
        getattr(service, f"on_{envelope['type']}")(envelope)
    return envelopes


def by_code(summary) -> dict:
    return {row["code"]: row for row in summary["townships"]}


@pytest.fixture
def worker(tmp_path):
    service, database = service_worker(ReportingService, "reporting", tmp_path)
    envelopes = feed(service, campaign_events())
    yield service, envelopes
    database.dispose()


class TestReportingWorker:
    def test_summary_counts_each_township(self, worker):
        service, _ = worker
        summary = by_code(service.campaign_summary(ACTOR, CAMPAIGN_ID))
        assert summary[EAST]["eligible"] == 3
        assert summary[EAST]["handed_out"] == 3
        assert summary[EAST]["redeemed_fen"] == 30000
        assert summary[WEST]["eligible"] == 2
        assert summary[WEST]["refund_fen"] == 35000

    def test_replayed_events_change_nothing(self, worker):
        service, envelopes = worker
        before = service.campaign_summary(ACTOR, CAMPAIGN_ID)
        for envelope in envelopes:
            getattr(service, f"on_{envelope['type']}")(envelope)
        again = service.campaign_summary(ACTOR, CAMPAIGN_ID)
        assert again["townships"] == before["townships"]
        assert again["totals"] == before["totals"]

    def test_township_sees_only_its_own(self, worker):
        service, _ = worker
        summary = service.campaign_summary(EAST_TOWNSHIP, CAMPAIGN_ID)
        assert [row["code"] for row in summary["townships"]] == [EAST]
        with pytest.raises(NotFound):
            service.campaign_summary(EAST_TOWNSHIP, CAMPAIGN_ID, WEST)

    def test_merchant_may_not_read_reports(self, worker):
        service, _ = worker
        with pytest.raises(Forbidden):
            service.campaign_summary(MERCHANT, CAMPAIGN_ID)

    def test_unknown_campaign_is_not_found(self, worker):
        service, _ = worker
        with pytest.raises(NotFound):
            service.campaign_summary(ACTOR, "411103-2099-01")

    def test_weekly_report_rejects_invalid_day(self, worker):
        service, _ = worker
        with pytest.raises(InvalidInput) as raised:
            service.weekly_report(ACTOR, CAMPAIGN_ID, monday="2023-02-30")
        assert raised.value.code == "invalid_date"

    def test_joint_report_documents(self, worker):
        service, _ = worker
        xlsx = service.joint_report_document(ACTOR, CAMPAIGN_ID, "xlsx", "2023-03-25")
        assert xlsx["filename"].endswith(".xlsx")
        pdf = service.joint_report_document(ACTOR, CAMPAIGN_ID, "pdf", "2023-03-25")
        assert pdf["filename"].endswith(".pdf")
        with pytest.raises(InvalidInput) as raised:
            service.joint_report_document(ACTOR, CAMPAIGN_ID, "docx")
        assert raised.value.code == "invalid_format"

    def test_rebuild_needs_admin(self, worker):
        service, _ = worker
        with pytest.raises(Forbidden):
            service.rebuild(ACTOR)

    def test_rebuild_keeps_the_figures(self, worker):
        service, envelopes = worker
        before = service.campaign_summary(ACTOR, CAMPAIGN_ID)
        result = service.rebuild(ADMIN)
        assert result["events_replayed"] == len(envelopes)
        after = service.campaign_summary(ACTOR, CAMPAIGN_ID)
        assert after["townships"] == before["townships"]
