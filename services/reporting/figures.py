"""Queries of the read model: per-township, per-village and daily figures.

A voucher counts as handed out when it was issued and not voided afterwards, so a
lost voucher reissued under a new serial counts once. Unredeemed vouchers are the
handed-out ones not yet redeemed.
"""

from sqlalchemy import and_, case, func, select

from aixin.errors import NotFound
from services.reporting.models import (beneficiaries, campaigns, open_flag_vouchers,
                                       open_flags, townships, vouchers)

TOWNSHIP_COUNTERS = ("eligible", "printed", "issued", "late_issued", "voided",
                     "handed_out", "redeemed_count", "redeemed_fen",
                     "paid_by_person_fen", "approved_count", "approved_fen",
                     "rejected_count", "allocated_fen", "reimbursed_fen", "unredeemed")


def _count_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _sum_if(condition, column):
    return func.coalesce(func.sum(case((condition, column), else_=0)), 0)


def rate(part: int, whole: int) -> float | None:
    """Return part / whole rounded to four places, or None when whole is 0."""
    return round(part / whole, 4) if whole else None


def load_campaign(session, campaign_id: str) -> dict:
    row = session.execute(select(campaigns).where(
        campaigns.c.campaign_id == campaign_id)).first()
    if row is None or row.config is None:
        raise NotFound("campaign_not_found",
                       f"报表中没有活动 {campaign_id}：请核对活动编号，或等待活动数据同步后重试。",
                       campaign_id=campaign_id)
    return row._asdict()


def voucher_figures(session, campaign_id: str, township_code: str | None = None,
                    group_by=vouchers.c.township_code):
    """Aggregate the voucher rows of a campaign per ``group_by``."""
    handed_out = and_(vouchers.c.issued_on.is_not(None), vouchers.c.voided_on.is_(None))
    redeemed = vouchers.c.redeemed_on.is_not(None)
    approved = vouchers.c.audit_status == "approved"
    query = select(
        group_by.label("unit"),
        func.count(vouchers.c.printed_on).label("printed"),
        func.count(vouchers.c.issued_on).label("issued"),
        _count_if(vouchers.c.late.is_(True)).label("late_issued"),
        func.count(vouchers.c.voided_on).label("voided"),
        _count_if(handed_out).label("handed_out"),
        func.count(vouchers.c.redeemed_on).label("redeemed_count"),
        _sum_if(redeemed, vouchers.c.voucher_part_fen).label("redeemed_fen"),
        _sum_if(redeemed, vouchers.c.paid_by_person_fen).label("paid_by_person_fen"),
        _count_if(approved).label("approved_count"),
        _sum_if(approved, vouchers.c.voucher_part_fen).label("approved_fen"),
        _count_if(vouchers.c.audit_status == "rejected").label("rejected_count"),
    ).where(vouchers.c.campaign_id == campaign_id).group_by(group_by)
    if township_code:
        query = query.where(vouchers.c.township_code == township_code)
    return {row.unit: row._asdict() for row in session.execute(query)}


def township_rows(session, campaign_id: str, township_code: str | None = None) -> list:
    """Return every township's figures, ordered by division code."""
    query = select(townships).where(townships.c.campaign_id == campaign_id)
    if township_code:
        query = query.where(townships.c.township_code == township_code)
    known = {row.township_code: row for row in session.execute(query)}
    counted = voucher_figures(session, campaign_id, township_code)
    flagged = open_flag_texts(session, campaign_id, township_code)
    rows = []
    for code in sorted(set(known) | set(counted)):
        township = known.get(code)
        figures = counted.get(code) or dict.fromkeys(
            ("printed", "issued", "late_issued", "voided", "handed_out",
             "redeemed_count", "redeemed_fen", "paid_by_person_fen",
             "approved_count", "approved_fen", "rejected_count"), 0)
        eligible = (township.eligible_published + township.eligible_amended
                    if township else 0)
        row = {key: int(value) for key, value in figures.items() if key != "unit"}
        row.update(
            code=code,
            name=(township.name if township and township.name else code),
            eligible=eligible,
            allocated_fen=township.allocated_fen if township else 0,
            reimbursed_fen=row["approved_fen"],
            refund_fen=township.refund_fen if township else None,
            cleared=bool(township and township.refund_fen is not None),
            unredeemed=row["handed_out"] - row["redeemed_count"],
            open_flags=len(flagged.get(code, {})),
        )
        rows.append(with_rates(row))
    return rows


def with_rates(row: dict) -> dict:
    row["handout_rate"] = rate(row["handed_out"], row["eligible"])
    row["redemption_rate"] = rate(row["redeemed_count"], row["handed_out"])
    return row


def totals_of(rows: list) -> dict:
    totals = {key: sum(row[key] for row in rows) for key in TOWNSHIP_COUNTERS}
    refunds = [row["refund_fen"] for row in rows if row["refund_fen"] is not None]
    totals["refund_fen"] = sum(refunds) if refunds else None
    totals["cleared"] = bool(rows) and all(row["cleared"] for row in rows)
    return with_rates(totals)


def village_rows(session, campaign_id: str, township_code: str,
                 with_names: bool = False) -> list:
    """Return per-village eligible, hand-out and redemption figures of a township.

    With ``with_names`` each village also lists its unredeemed beneficiaries by name
    and masked ID number.
    """
    eligible = dict(session.execute(
        select(beneficiaries.c.village, func.count())
        .where(beneficiaries.c.campaign_id == campaign_id,
               beneficiaries.c.township_code == township_code,
               beneficiaries.c.removed.is_(False))
        .group_by(beneficiaries.c.village)).all())
    counted = voucher_figures(session, campaign_id, township_code,
                              group_by=vouchers.c.village)
    counted.pop(None, None)  # printed vouchers not yet handed to anyone
    rows = []
    for village in sorted(set(eligible) | set(counted), key=lambda name: name or ""):
        figures = counted.get(village, {})
        handed_out = int(figures.get("handed_out", 0))
        redeemed = int(figures.get("redeemed_count", 0))
        row = {"village": village, "eligible": eligible.get(village, 0),
               "handed_out": handed_out,
               "late_issued": int(figures.get("late_issued", 0)),
               "redeemed_count": redeemed,
               "redeemed_fen": int(figures.get("redeemed_fen", 0)),
               "unredeemed": handed_out - redeemed}
        if with_names:
            row["unredeemed_beneficiaries"] = unredeemed_list(
                session, campaign_id, township_code, village)
        rows.append(row)
    return rows


def open_flag_texts(session, campaign_id: str, township_code: str | None = None,
                    by_village: bool = False) -> dict:
    """Return ``{unit: {flag_id: text}}`` of the open cash-out flags.

    Units are townships, or with ``by_village`` the villages (or institutions) of
    the flagged vouchers. A flag counts in every unit whose vouchers it names.
    """
    flag = and_(open_flags.c.campaign_id == open_flag_vouchers.c.campaign_id,
                open_flags.c.flag_id == open_flag_vouchers.c.flag_id)
    voucher = and_(vouchers.c.campaign_id == open_flag_vouchers.c.campaign_id,
                   vouchers.c.serial == open_flag_vouchers.c.serial)
    query = (select(open_flag_vouchers.c.township_code, vouchers.c.village,
                    open_flags.c.flag_id, open_flags.c.label, open_flags.c.explanation)
             .join(open_flags, flag).outerjoin(vouchers, voucher)
             .where(open_flag_vouchers.c.campaign_id == campaign_id))
    if township_code:
        query = query.where(open_flag_vouchers.c.township_code == township_code)
    units: dict = {}
    for row in session.execute(query):
        unit = row.village if by_village else row.township_code
        units.setdefault(unit, {})[row.flag_id] = f"{row.label}：{row.explanation}"
    return units


def distinct_flags(units: dict) -> dict:
    """Return ``{flag_id: text}`` of every flag in ``units``, each flag once."""
    return {flag_id: text
            for flags in units.values() for flag_id, text in flags.items()}


def unredeemed_list(session, campaign_id: str, township_code: str, village) -> list:
    query = (select(vouchers.c.serial, vouchers.c.beneficiary_name,
                    vouchers.c.masked_id)
             .where(vouchers.c.campaign_id == campaign_id,
                    vouchers.c.township_code == township_code,
                    vouchers.c.village == village,
                    vouchers.c.issued_on.is_not(None),
                    vouchers.c.voided_on.is_(None),
                    vouchers.c.redeemed_on.is_(None))
             .order_by(vouchers.c.serial))
    return [{"serial": row.serial, "name": row.beneficiary_name,
             "masked_id": row.masked_id} for row in session.execute(query)]
