"""A small campaign as events: two townships, three villages, a few vouchers."""

from datetime import datetime

from aixin.clock import CAMPAIGN_TZ

CAMPAIGN_ID = "411103-2022-12"
EAST = "411103100000"
WEST = "411103101000"
CAMPAIGN = {
    "campaign_id": CAMPAIGN_ID, "campaign_no": 1, "name": "郾城区爱心消费券",
    "district_code": "411103", "district_name": "郾城区", "face_value_fen": 30000,
    "snapshot_month": "2022-12", "funds_due": "2023-01-13",
    "spring_festival": "2023-01-22", "redemption_deadline": "2023-02-28",
    "joint_audit_date": "2023-03-06", "clearing_deadline": "2023-03-31",
    "spare_share_percent": 0, "cash_equivalent_categories": ["cash"],
}


def at(month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0,
       year: int = 2023) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=CAMPAIGN_TZ)


def person(number: int, township: str, village: str | None,
           institution: str | None = None) -> dict:
    return {"beneficiary_id": f"b{number}", "name": f"居民{number}",
            "masked_id": "411103********123X", "township_code": township,
            "township_name": "东镇" if township == EAST else "西镇", "village": village,
            "categories": ["rural_dibao"],
            "support_mode": "institutional" if institution else "dispersed",
            "institution": institution}


PEOPLE = [person(1, EAST, "东村"), person(2, EAST, "东村"), person(3, EAST, "南村"),
          person(4, WEST, "西村"), person(5, WEST, None, "西镇敬老院")]


def issued(serial: str, beneficiary: dict, moment, late: bool = False) -> dict:
    return {"campaign_id": CAMPAIGN_ID, "serial": serial,
            "beneficiary_id": beneficiary["beneficiary_id"],
            "beneficiary_name": beneficiary["name"],
            "masked_id": beneficiary["masked_id"],
            "township_code": beneficiary["township_code"],
            "village": beneficiary["village"],
            "institution": beneficiary["institution"],
            "recipient_kind": ("institution_manager" if beneficiary["institution"]
                               else "self"),
            "issued_at": moment.isoformat(), "late": late}


def redeemed(serial: str, township: str, part: int, paid: int, moment) -> dict:
    return {"campaign_id": CAMPAIGN_ID, "redemption_id": f"r-{serial}",
            "serial": serial,
            "township_code": township, "merchant_code": "91411100MA00000001",
            "voucher_part_fen": part, "paid_by_person_fen": paid,
            "total_fen": part + paid, "redeemed_at": moment.isoformat(),
            "till_transaction_id": f"t-{serial}"}


def flagged(rule: str, label: str, explanation: str, *serials: str) -> dict:
    """An open cash-out flag over the redemptions of ``serials``."""
    return {"flag_id": f"{rule}-{'-'.join(serials)}", "rule": rule, "label": label,
            "explanation": explanation, "merchant_code": "91411100MA00000001",
            "redemptions": [{"redemption_id": f"r-{serial}", "serial": serial,
                             "township_code": EAST if serial[0] == "E" else WEST}
                            for serial in serials]}


FACE_VALUE_LINE = flagged("single_line_face_value", "单行商品金额恰为面值",
                          "一行商品恰好 300.00 元", "E1")
SAME_BASKET = flagged("identical_baskets", "商品清单重复出现", "两笔核销的商品清单完全相同",
                      "E1", "W2")
AFTER_HOURS = flagged("outside_opening_hours", "营业时间外核销", "22:40 核销，晚于营业时间",
                      "W2")


def flags_changed(version: int, moment, *open_flags: dict) -> dict:
    return {"campaign_id": CAMPAIGN_ID, "version": version,
            "checked_at": moment.isoformat(), "open_flags": list(open_flags)}


def campaign_events() -> list[tuple[str, dict]]:
    """Return the campaign's events in a plausible order."""
    return [
        ("campaign_created", CAMPAIGN),
        ("roster_published", {"campaign_id": CAMPAIGN_ID, "snapshot_id": "s1",
                              "batch_no": 1, "batch_count": 1,
                              "beneficiaries": PEOPLE}),
        ("roster_publication_completed", {
            "campaign_id": CAMPAIGN_ID, "snapshot_id": "s1", "batch_count": 1,
            "beneficiary_count": 5,
            "townships": [{"code": EAST, "name": "东镇", "eligible": 3},
                          {"code": WEST, "name": "西镇", "eligible": 2}]}),
        ("funds_allocated", {"campaign_id": CAMPAIGN_ID, "township_code": EAST,
                             "amount_fen": 90000, "transfer_id": "x1",
                             "allocated_at": at(1, 10).isoformat()}),
        ("funds_allocated", {"campaign_id": CAMPAIGN_ID, "township_code": WEST,
                             "amount_fen": 60000, "transfer_id": "x2",
                             "allocated_at": at(1, 10).isoformat()}),
        ("vouchers_printed", {"campaign_id": CAMPAIGN_ID, "batch_id": "p1",
                              "township_code": EAST, "merchant_code": "m",
                              "serials": ["E1", "E2", "E3", "E4"],
                              "printed_at": at(1, 11).isoformat()}),
        ("vouchers_printed", {"campaign_id": CAMPAIGN_ID, "batch_id": "p2",
                              "township_code": WEST, "merchant_code": "m",
                              "serials": ["W1", "W2"],
                              "printed_at": at(1, 11).isoformat()}),
        # Sunday 23:59:59 belongs to the week of 9-15 January ...
        ("voucher_issued", issued("E1", PEOPLE[0], at(1, 15, 23, 59, 59))),
        # ... and 00:30 on Monday, written in UTC, to the next week.
        ("voucher_issued", issued("E2", PEOPLE[1], datetime.fromisoformat(
            "2023-01-15T16:30:00+00:00"))),
        ("voucher_issued", issued("E3", PEOPLE[2], at(1, 12))),
        ("voucher_voided", {"campaign_id": CAMPAIGN_ID, "serial": "E3",
                            "township_code": EAST, "beneficiary_id": "b3",
                            "reason": "lost", "voided_at": at(1, 13).isoformat()}),
        ("voucher_issued", issued("E4", PEOPLE[2], at(1, 23), late=True)),
        ("voucher_issued", issued("W1", PEOPLE[3], at(1, 14))),
        ("voucher_issued", issued("W2", PEOPLE[4], at(1, 14))),
        ("voucher_redeemed", redeemed("E1", EAST, 30000, 1250, at(1, 16, 9))),
        ("voucher_redeemed", redeemed("W1", WEST, 25000, 0, at(1, 15, 18))),
        ("voucher_redeemed", redeemed("W2", WEST, 30000, 0, at(2, 1))),
        # Each check lists every flag open at the time, so the second replaces the
        # first. One flag names vouchers of both townships.
        ("cashout_flags_changed", flags_changed(1, at(1, 16, 12), FACE_VALUE_LINE)),
        ("cashout_flags_changed", flags_changed(2, at(2, 1, 12), SAME_BASKET,
                                                AFTER_HOURS)),
        ("redemptions_audited", {
            "campaign_id": CAMPAIGN_ID, "audit_id": "a1",
            "merchant_code": "91411100MA00000001", "audited_at": at(3, 2).isoformat(),
            "approved": [{"redemption_id": "r-E1", "serial": "E1",
                          "township_code": EAST,
                          "voucher_part_fen": 30000},
                         {"redemption_id": "r-W1", "serial": "W1",
                          "township_code": WEST,
                          "voucher_part_fen": 25000}],
            "rejected": [{"redemption_id": "r-W2", "serial": "W2",
                          "township_code": WEST,
                          "voucher_part_fen": 30000, "reason": "statement_mismatch"}]}),
        ("township_cleared", {"campaign_id": CAMPAIGN_ID, "township_code": WEST,
                              "allocated_fen": 60000, "reimbursed_fen": 25000,
                              "refund_fen": 35000,
                              "cleared_at": at(3, 20).isoformat()}),
    ]
