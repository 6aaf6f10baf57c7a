"""The settlement service's handlers and reads, run by nameko's worker_factory."""

import base64

import pytest

from services.settlement.service import SettlementService
from tests.unit.documents.doc_helpers import sheet_rows
from worker_support import ACTOR, CAMPAIGN_DATA, envelope, service_worker

FINANCE = {"role": "finance", "scope": None, "name": "区财政局经办人", "token_id": "t6",
           "correlation_id": "c6"}
TOWN_A, TOWN_B = "411103101000", "411103102000"
MERCHANTS = {"91411102MA45AB1C2D": "好又多超市", "91411102MA45AB1C3E": "爱心便民店"}
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


def redeemed(redemption_id: str, township: str, merchant: str) -> dict:
    return {"campaign_id": CAMPAIGN_DATA["campaign_id"], "redemption_id": redemption_id,
            "serial": f"serial-{redemption_id}", "township_code": township,
            "merchant_code": merchant, "voucher_part_fen": 30000,
            "paid_by_person_fen": 0, "total_fen": 30000,
            "redeemed_at": "2023-02-01T10:00:00+08:00",
            "till_transaction_id": f"till-{redemption_id}"}


@pytest.fixture
def settled(worker):
    """The worker after allocation, three approved redemptions and one payment."""
    service, _ = worker
    campaign_id = CAMPAIGN_DATA["campaign_id"]
    for code, name in MERCHANTS.items():
        service.on_merchant_designated(envelope("merchant_designated", {
            "campaign_id": campaign_id, "merchant_code": code, "name": name,
            "township_codes": [TOWN_A, TOWN_B], "stores": 1,
            "valid_from": "2023-01-01", "valid_to": "2023-02-28"}))
    service.on_roster_publication_completed(
        envelope("roster_publication_completed", COUNTS))
    service.approve_allocation(FINANCE, campaign_id, {}, "key-allocation")
    first, second = MERCHANTS
    redemptions = [("r-1", TOWN_A, first), ("r-2", TOWN_A, first),
                   ("r-3", TOWN_A, second)]
    for redemption_id, township, merchant in redemptions:
        service.on_voucher_redeemed(envelope(
            "voucher_redeemed", redeemed(redemption_id, township, merchant)))
    for merchant in MERCHANTS:
        service.on_redemptions_audited(envelope("redemptions_audited", {
            "campaign_id": campaign_id, "audit_id": f"audit-{merchant}",
            "merchant_code": merchant, "audited_at": "2023-03-02T10:00:00+08:00",
            "approved": [{"redemption_id": redemption_id,
                          "serial": f"serial-{redemption_id}",
                          "township_code": township, "voucher_part_fen": 30000,
                          "reason": None}
                         for redemption_id, township, code in redemptions
                         if code == merchant],
            "rejected": []}))
    service.record_merchant_payment(FINANCE, campaign_id, first,
                                    {"amount_fen": 60000, "memo": "第一批"},
                                    "key-payment")
    return service


def descriptions(document: dict) -> list[str]:
    """Return the 摘要 column of a statement's transfer sheet, without the totals."""
    rows = sheet_rows(base64.b64decode(document["content_b64"]), "资金流水")
    header = rows.index(next(row for row in rows if row and row[0] == "时间"))
    return [row[1] for row in rows[header + 1:] if row[1]]


class TestSettlementStatements:
    def test_township_lines_say_what_they_are(self, settled):
        document = settled.township_statement(FINANCE, CAMPAIGN_DATA["campaign_id"],
                                              TOWN_A, "xlsx")
        lines = descriptions(document)
        assert lines == ["按花名册人数分配给孟庙镇",
                         "孟庙镇向好又多超市报销核销款：核销 r-1",
                         "孟庙镇向好又多超市报销核销款：核销 r-2",
                         "孟庙镇向爱心便民店报销核销款：核销 r-3"]

    def test_district_allocations_name_township(self, settled):
        document = settled.district_statement(FINANCE, CAMPAIGN_DATA["campaign_id"],
                                              "xlsx")
        lines = descriptions(document)
        assert lines == ["按花名册人数分配给孟庙镇", "按花名册人数分配给商桥镇"]
        assert len(set(lines)) == len(lines)

    def test_merchant_payment_names_merchant(self, settled):
        first = next(iter(MERCHANTS))
        document = settled.merchant_statement(FINANCE, CAMPAIGN_DATA["campaign_id"],
                                              first, "xlsx")
        lines = descriptions(document)
        assert lines == ["孟庙镇向好又多超市报销核销款：核销 r-1",
                         "孟庙镇向好又多超市报销核销款：核销 r-2",
                         "向好又多超市支付报销款：第一批"]
