"""The redemption service's set-up entrypoints, run by nameko's worker_factory."""

import pytest

from aixin.errors import InvalidInput
from services.redemption.domain.uscc import make_uscc
from services.redemption.service import RedemptionService
from worker_support import ACTOR, outbox_types, service_worker

CAMPAIGN = {
    "name": "郾城区爱心消费券", "district_code": "411103", "district_name": "郾城区",
    "face_value_fen": 30000, "snapshot_month": "2022-12", "funds_due": "2023-01-13",
    "redemption_deadline": "2023-02-28", "joint_audit_date": "2023-03-06",
    "clearing_deadline": "2023-03-31",
}


def merchant(**changes) -> dict:
    return {"merchant_code": make_uscc("411103", 1), "name": "爱心超市",
            "above_size": True, "township_codes": ["411103101000"],
            "valid_from": "2023-01-01", "valid_to": "2023-03-31", **changes}


@pytest.fixture
def worker(tmp_path):
    service, database = service_worker(RedemptionService, "redemption", tmp_path)
    yield service, database
    database.dispose()


class TestRedemptionWorker:
    def test_campaign_gets_spring_festival(self, worker):
        service, _ = worker
        created = service.create_campaign(ACTOR, CAMPAIGN, "key-1")
        assert created["spring_festival"] == "2023-01-22"

    def test_campaign_is_announced(self, worker):
        service, database = worker
        service.create_campaign(ACTOR, CAMPAIGN, "key-1")
        assert outbox_types(database) == ["campaign_created"]

    def test_retry_with_same_key_changes_nothing(self, worker):
        service, database = worker
        first = service.create_campaign(ACTOR, CAMPAIGN, "key-1")
        second = service.create_campaign(ACTOR, CAMPAIGN, "key-1")
        assert first == second
        assert outbox_types(database) == ["campaign_created"]

    def test_merchant_outside_register_is_rejected(self, worker):
        service, database = worker
        created = service.create_campaign(ACTOR, CAMPAIGN, "key-1")
        with pytest.raises(InvalidInput) as raised:
            service.designate_merchant(ACTOR, created["campaign_id"],
                                       merchant(above_size=False), "key-2")
        assert raised.value.code == "merchant_not_above_size"
        assert outbox_types(database) == ["campaign_created"]

    def test_designated_merchant_is_announced(self, worker):
        service, database = worker
        created = service.create_campaign(ACTOR, CAMPAIGN, "key-1")
        service.designate_merchant(ACTOR, created["campaign_id"], merchant(), "key-2")
        assert outbox_types(database) == ["campaign_created", "merchant_designated"]

    def test_unknown_district_is_rejected(self, worker):
        service, database = worker
        with pytest.raises(InvalidInput) as raised:
            service.create_campaign(ACTOR, {**CAMPAIGN, "district_code": "999999"},
                                    "key-9")
        assert raised.value.code == "unknown_district"
        assert outbox_types(database) == []

    def test_district_name_must_match_code(self, worker):
        service, _ = worker
        with pytest.raises(InvalidInput) as raised:
            service.create_campaign(ACTOR, {**CAMPAIGN, "district_name": "海淀区"},
                                    "key-8")
        assert raised.value.code == "district_name_mismatch"

    def test_township_outside_district_is_rejected(self, worker):
        service, _ = worker
        created = service.create_campaign(ACTOR, CAMPAIGN, "key-1")
        with pytest.raises(InvalidInput) as raised:
            service.designate_merchant(ACTOR, created["campaign_id"],
                                       merchant(township_codes=["110108001000"]),
                                       "key-3")
        assert raised.value.code == "township_outside_district"

    def test_impossible_opening_hours_are_rejected(self, worker):
        service, _ = worker
        created = service.create_campaign(ACTOR, CAMPAIGN, "key-1")
        with pytest.raises(InvalidInput) as raised:
            service.designate_merchant(ACTOR, created["campaign_id"],
                                       merchant(opening_hours="25:00-99:99"), "key-4")
        assert raised.value.code == "invalid_opening_hours"
