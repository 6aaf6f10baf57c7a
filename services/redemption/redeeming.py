"""Redeeming one voucher at a designated merchant against an itemised statement.

Checks run in a fixed order and the first failure rejects the request with a reason
code from ``domain.reasons``. "Redeem once" rests on two guards that hold under any
isolation level: a conditional ``UPDATE vouchers ... WHERE state = 'issued'`` whose
row count must be 1, and the unique serial of ``redemptions``.
"""

import logging
import uuid
from datetime import date

from sqlalchemy import select, update

from aixin.commands import record_audit
from aixin.outbox import record_event
from aixin.vouchers import canonical_serial, verify_check_code
from services.redemption.domain.payment import split_payment
from services.redemption.domain.reasons import rejection
from services.redemption.domain.statement import validate_statement
from services.redemption.domain.window import check_redemption_window
from services.redemption.fixed_rows import FixedRows
from services.redemption.models import redemptions, vouchers
from services.redemption.timestamps import aware

log = logging.getLogger(__name__)


def redeem(session, key: bytes, campaign_id: str, merchant_code: str, request: dict,
           actor_name: str, now, rows: FixedRows | None = None) -> dict:
    """Record one redemption and announce it; raise the DomainError of a reason.

    ``rows`` keeps the campaign and the designations read by earlier redemptions.
    On PostgreSQL the service uses ``redeem_in_one_statement`` instead, which runs the
    same checks and writes the same rows in fewer round trips.
    """
    rows = rows or FixedRows()
    serial = canonical_serial(request["serial"])
    if not verify_check_code(key, serial, request["check_code"]):
        raise rejection("invalid_check_code", serial=serial)
    campaign = rows.campaign(session, campaign_id)
    voucher = session.execute(
        select(vouchers).where(vouchers.c.serial == serial)).first()
    row = checked_redemption(session, rows, campaign, campaign_id, merchant_code,
                             serial, voucher, request, actor_name, now)
    claim_voucher(session, serial, row["redemption_id"], now)
    session.execute(redemptions.insert().values(**row))
    record_audit(session, now, actor_name, "redeem_voucher", serial,
                 **audit_details(row))
    record_event(session, "voucher_redeemed", event_data(row), now)
    log.info("voucher redeemed serial=%s merchant=%s redemption_id=%s",
             serial, merchant_code, row["redemption_id"])
    return result_of(row)


def checked_redemption(connection, rows: FixedRows, campaign: dict, campaign_id: str,
                       merchant_code: str, serial: str, voucher, request: dict,
                       actor_name: str, now) -> dict:
    """Run the checks that follow the check code and the campaign, in their order,
    and return the ``redemptions`` row to write; raise the DomainError of a reason.

    ``voucher`` is the voucher's row (with at least ``campaign_id``, ``state``,
    ``township_code`` and ``issued_at``) or None. Nothing is written here.
    """
    if voucher is None or voucher.campaign_id != campaign_id:
        raise rejection("voucher_not_found", serial=serial)
    check_voucher_state(voucher.state, serial)
    check_merchant(connection, campaign_id, merchant_code, voucher.township_code,
                   serial, now.date(), rows)
    deadline = date.fromisoformat(campaign["redemption_deadline"])
    check_redemption_window(now, serial, aware(voucher.issued_at), deadline)
    statement = validate_statement(statement_lines(request["lines"]),
                                   request["total_fen"],
                                   campaign["cash_equivalent_categories"])
    voucher_part, paid_by_person = split_payment(statement.total_fen,
                                                 campaign["face_value_fen"])
    return {
        "redemption_id": str(uuid.uuid4()),
        "campaign_id": campaign_id,
        "serial": serial,
        "merchant_code": merchant_code,
        "township_code": voucher.township_code,
        "store_id": request.get("store_id"),
        "till_session": request.get("till_session"),
        "till_transaction_id": request["till_transaction_id"],
        "lines": stored_lines(statement.lines),
        "total_fen": statement.total_fen,
        "voucher_part_fen": voucher_part,
        "paid_by_person_fen": paid_by_person,
        "redeemed_at": now,
        "redeemed_by": actor_name,
        "match_status": "unmatched",
        "audit_state": "pending",
    }


def audit_details(row: dict) -> dict:
    return {"campaign_id": row["campaign_id"], "merchant_code": row["merchant_code"],
            "redemption_id": row["redemption_id"]}


def event_data(row: dict) -> dict:
    """Return the data of the ``voucher_redeemed`` event of a redemption row."""
    return {key: row[key] for key in (
        "campaign_id", "redemption_id", "serial", "township_code", "merchant_code",
        "voucher_part_fen", "paid_by_person_fen", "total_fen", "redeemed_at",
        "till_transaction_id")}


def check_voucher_state(state: str, serial: str) -> None:
    if state == "voided":
        raise rejection("voucher_voided", serial=serial)
    if state == "redeemed":
        raise rejection("voucher_already_redeemed", serial=serial)
    if state != "issued":
        raise rejection("voucher_not_issued", serial=serial)


def check_merchant(session, campaign_id: str, merchant_code: str, township_code: str,
                   serial: str, today: date, rows: FixedRows | None = None) -> None:
    """Reject a merchant not designated for the township, or outside its period."""
    designation = (rows or FixedRows()).designation(session, campaign_id, merchant_code,
                                                    township_code)
    if designation is None:
        raise rejection("merchant_not_designated", serial=serial)
    valid_from, valid_to = designation
    if not valid_from <= today <= valid_to:
        raise rejection("merchant_designation_inactive")


def claim_voucher(session, serial: str, redemption_id: str, now) -> None:
    """Move the voucher from issued to redeemed, or reject if another request won.

    A concurrent redemption that committed first leaves no row with state issued,
    so the row count is 0 here whatever the isolation level.
    """
    claimed = session.execute(
        update(vouchers)
        .where(vouchers.c.serial == serial, vouchers.c.state == "issued")
        .values(state="redeemed", redeemed_at=now, redemption_id=redemption_id))
    if claimed.rowcount == 1:
        return
    state = session.execute(
        select(vouchers.c.state).where(vouchers.c.serial == serial)).scalar()
    check_voucher_state(state, serial)
    raise rejection("voucher_already_redeemed", serial=serial)


def statement_lines(lines: list) -> list:
    """Rename the API's ``item`` to the domain's ``name``; leave checks to the domain."""
    renamed = []
    for line in lines:
        if isinstance(line, dict) and "item" in line and "name" not in line:
            line = {**{k: v for k, v in line.items() if k != "item"}, "name": line["item"]}
        renamed.append(line)
    return renamed


def stored_lines(lines) -> list[dict]:
    return [{"item": line.name, "category": line.category,
             "quantity": str(line.quantity), "unit_price_fen": line.unit_price_fen,
             "amount_fen": line.amount_fen} for line in lines]


def result_of(row) -> dict:
    """Return the JSON view of a redemption row (a dict or a database row)."""
    data = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    return {
        "redemption_id": data["redemption_id"],
        "campaign_id": data["campaign_id"],
        "serial": data["serial"],
        "merchant_code": data["merchant_code"],
        "township_code": data["township_code"],
        "store_id": data["store_id"],
        "till_session": data["till_session"],
        "till_transaction_id": data["till_transaction_id"],
        "lines": data["lines"],
        "total_fen": data["total_fen"],
        "voucher_part_fen": data["voucher_part_fen"],
        "paid_by_person_fen": data["paid_by_person_fen"],
        "redeemed_at": aware(data["redeemed_at"]).isoformat(),
        "match_status": data["match_status"],
        "audit_state": data["audit_state"],
        "audit_reason": data.get("audit_reason"),
    }
