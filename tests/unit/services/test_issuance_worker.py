"""The issuance service's handlers and progress, run by nameko's worker_factory."""

import pytest

from aixin.errors import DomainError

from services.issuance.service import IssuanceService
from worker_support import CAMPAIGN_DATA, envelope, service_worker

TOWNSHIP = "411103101000"
TOWNSHIP_ACTOR = {"role": "township", "scope": TOWNSHIP, "name": "孟庙镇经办人",
                  "token_id": "t2", "correlation_id": "c2"}
PERSONS = [
    {"beneficiary_id": f"b{number}", "name": f"张{number}明",
     "masked_id": "411103********0011", "township_code": TOWNSHIP,
     "township_name": "孟庙镇", "village": "卢楼村", "categories": ["rural_dibao"],
     "support_mode": "dispersed", "institution": None}
    for number in range(3)
]


@pytest.fixture
def worker(tmp_path):
    service, database = service_worker(IssuanceService, "issuance", tmp_path)
    service.on_campaign_created(envelope("campaign_created", CAMPAIGN_DATA))
    service.on_roster_published(envelope("roster_published", {
        "campaign_id": CAMPAIGN_DATA["campaign_id"], "snapshot_id": "s1",
        "batch_no": 1, "batch_count": 1, "beneficiaries": PERSONS}))
    service.on_roster_publication_completed(envelope(
        "roster_publication_completed", {
            "campaign_id": CAMPAIGN_DATA["campaign_id"], "snapshot_id": "s1",
            "batch_count": 1, "beneficiary_count": 3,
            "townships": [{"code": TOWNSHIP, "name": "孟庙镇", "eligible": 3}]}))
    yield service
    database.dispose()


class TestIssuanceWorker:
    def test_print_needs_designated_merchant(self, worker):
        with pytest.raises(DomainError) as raised:
            worker.order_print_batch(TOWNSHIP_ACTOR, CAMPAIGN_DATA["campaign_id"],
                                     TOWNSHIP, {"merchant_code": "X" * 18,
                                                "operator": "印制专员"}, "key-1")
        assert raised.value.code == "merchant_not_designated"


    def test_published_persons_are_eligible(self, worker):
        progress = worker.progress(TOWNSHIP_ACTOR, CAMPAIGN_DATA["campaign_id"],
                                   TOWNSHIP)
        assert progress["eligible"] == 3
        assert progress["remaining"] == 3
        assert progress["printed"] == 0

    def test_persons_can_be_found(self, worker):
        found = worker.search_beneficiaries(TOWNSHIP_ACTOR, CAMPAIGN_DATA["campaign_id"],
                                            TOWNSHIP, village="卢楼村")
        assert len(found["beneficiaries"]) == 3
