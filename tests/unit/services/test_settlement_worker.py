"""The settlement service's handlers and reads, run by nameko's worker_factory."""

import pytest

from services.settlement.service import SettlementService
from worker_support import ACTOR, CAMPAIGN_DATA, envelope, service_worker

COUNTS = {
    "campaign_id": CAMPAIGN_DATA["campaign_id"], "snapshot_id": "s1", "batch_count": 1,
    "beneficiary_count": 5,
    "townships": [{"code": "411103101000", "name": "孟庙镇", "eligible": 3},
                  {"code": "411103102000", "name": "商桥镇", "eligible": 2}],
}


@pytest.fixture
def worker(tmp_path):
    service, database = service_worker(SettlementService, "settlement", tmp_path)
    service.on_campaign_created(envelope("campaign_created", CAMPAIGN_DATA))
    yield service, database
    database.dispose()


class TestSettlementWorker:
    def test_proposal_is_eligible_times_face_value(self, worker):
        service, _ = worker
        service.on_roster_publication_completed(
            envelope("roster_publication_completed", COUNTS))
        allocation = service.get_allocation(ACTOR, CAMPAIGN_DATA["campaign_id"])
        assert allocation["proposed_fen"] == 5 * 30000

    def test_replayed_event_changes_nothing(self, worker):
        service, _ = worker
        event = envelope("roster_publication_completed", COUNTS)
        service.on_roster_publication_completed(event)
        service.on_roster_publication_completed(event)
        allocation = service.get_allocation(ACTOR, CAMPAIGN_DATA["campaign_id"])
        assert allocation["proposed_fen"] == 5 * 30000

    def test_ledger_starts_balanced(self, worker):
        service, _ = worker
        balances = service.get_balances(ACTOR, CAMPAIGN_DATA["campaign_id"])
        assert balances["balance_sum_fen"] == 0
