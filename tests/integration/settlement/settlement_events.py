"""Event data for the settlement integration tests: one campaign, two townships."""

from datetime import datetime

from aixin.clock import CAMPAIGN_TZ

CAMPAIGN_ID = "411103-2022-12"
FACE = 30000
TOWN_A = "411103001000"
TOWN_B = "411103002000"
MERCHANT = "91411102MA45AB1C2D"


def at(month: int, day: int) -> datetime:
    return datetime(2023, month, day, 10, 0, tzinfo=CAMPAIGN_TZ)


CAMPAIGN = {
    "campaign_id": CAMPAIGN_ID, "campaign_no": 1, "name": "郾城区爱心消费券",
    "district_code": "411103", "district_name": "郾城区", "face_value_fen": FACE,
    "snapshot_month": "2022-12", "funds_due": "2023-01-13",
    "spring_festival": "2023-01-22", "redemption_deadline": "2023-02-28",
    "joint_audit_date": "2023-03-06", "clearing_deadline": "2023-03-31",
    "spare_share_percent": 0, "cash_equivalent_categories": ["cash"],
}

ROSTER_COMPLETED = {
    "campaign_id": CAMPAIGN_ID, "snapshot_id": "snap-1", "batch_count": 1,
    "beneficiary_count": 5,
    "townships": [{"code": TOWN_A, "name": "城关镇", "eligible": 3},
                  {"code": TOWN_B, "name": "沙北街道", "eligible": 2}],
}

MERCHANT_DESIGNATED = {
    "campaign_id": CAMPAIGN_ID, "merchant_code": MERCHANT, "name": "好又多超市",
    "township_codes": [TOWN_A, TOWN_B], "stores": 2, "valid_from": "2023-01-01",
    "valid_to": "2023-02-28",
}


def redeemed(redemption_id: str, township: str, voucher_part: int) -> dict:
    return {
        "campaign_id": CAMPAIGN_ID, "redemption_id": redemption_id,
        "serial": f"serial-{redemption_id}", "township_code": township,
        "merchant_code": MERCHANT, "voucher_part_fen": voucher_part,
        "paid_by_person_fen": 0, "total_fen": voucher_part,
        "redeemed_at": at(2, 1).isoformat(),
        "till_transaction_id": f"till-{redemption_id}",
    }


def audited(approved: list[tuple], rejected: list[tuple]) -> dict:
    def item(entry, reason=None):
        redemption_id, township, voucher_part = entry
        return {"redemption_id": redemption_id, "serial": f"serial-{redemption_id}",
                "township_code": township, "voucher_part_fen": voucher_part,
                "reason": reason}
    return {
        "campaign_id": CAMPAIGN_ID, "audit_id": "audit-1", "merchant_code": MERCHANT,
        "audited_at": at(3, 2).isoformat(),
        "approved": [item(entry) for entry in approved],
        "rejected": [item(entry, "statement_mismatch") for entry in rejected],
    }


def amended(kind: str, township: str) -> dict:
    return {
        "campaign_id": CAMPAIGN_ID, "amendment_id": f"amend-{kind}-{township}",
        "kind": kind, "reason": "数据更正", "operator": "民政局经办人",
        "beneficiary": {
            "beneficiary_id": "b-new", "name": "张三", "masked_id": "411103********1234",
            "township_code": township, "township_name": "沙北街道", "village": None,
            "categories": ["tekun"], "support_mode": "dispersed", "institution": None,
        },
    }
