"""The local copy of every voucher, built from the issuance and roster events.

Events of one voucher travel on different queues, so they may arrive in any order:
each handler inserts the row if it is missing and then updates only its own columns.
A voided or redeemed voucher never goes back to issued.
"""

import logging

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite

from services.redemption.models import roster_removals, vouchers
from services.redemption.timestamps import for_storage

log = logging.getLogger(__name__)

IN_LIST_CHUNK = 500


def _insert_missing(session, table, rows: list[dict]) -> None:
    """Insert ``rows``, skipping those whose primary key already exists."""
    if not rows:
        return
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(table).on_conflict_do_nothing(), rows)


def record_printed(session, data: dict) -> None:
    print_columns = {
        "printed_township_code": data["township_code"],
        "printed_by_merchant": data["merchant_code"],
        "print_batch_id": data["batch_id"],
        "printed_at": for_storage(data["printed_at"]),
    }
    serials = data["serials"]
    _insert_missing(session, vouchers, [
        {"serial": serial, "campaign_id": data["campaign_id"], "state": "printed",
         "township_code": data["township_code"], **print_columns}
        for serial in serials])
    for start in range(0, len(serials), IN_LIST_CHUNK):
        chunk = serials[start:start + IN_LIST_CHUNK]
        session.execute(update(vouchers)
                        .where(vouchers.c.serial.in_(chunk),
                               vouchers.c.printed_township_code.is_(None))
                        .values(**print_columns))


def record_issued(session, data: dict) -> None:
    serial = data["serial"]
    issue_columns = {
        "township_code": data["township_code"],
        "beneficiary_id": data["beneficiary_id"],
        "village": data.get("village"),
        "institution": data.get("institution"),
        "issued_at": for_storage(data["issued_at"]),
    }
    _insert_missing(session, vouchers, [
        {"serial": serial, "campaign_id": data["campaign_id"], "state": "issued",
         **issue_columns}])
    session.execute(update(vouchers).where(vouchers.c.serial == serial)
                    .values(**issue_columns))
    session.execute(update(vouchers)
                    .where(vouchers.c.serial == serial, vouchers.c.state == "printed")
                    .values(state="issued"))


def record_voided(session, data: dict) -> None:
    serial = data["serial"]
    voided_at = for_storage(data["voided_at"])
    _insert_missing(session, vouchers, [
        {"serial": serial, "campaign_id": data["campaign_id"], "state": "voided",
         "township_code": data["township_code"], "voided_at": voided_at,
         "void_reason": data["reason"][:200]}])
    changed = session.execute(
        update(vouchers)
        .where(vouchers.c.serial == serial,
               vouchers.c.state.in_(("printed", "issued", "voided")))
        .values(state="voided", voided_at=voided_at,
                void_reason=data["reason"][:200])).rowcount
    if changed == 0:
        log.warning("voucher voided after its redemption serial=%s township=%s",
                    serial, data["township_code"])


def record_roster_amendment(session, data: dict, occurred_at) -> None:
    beneficiary_id = data["beneficiary"]["beneficiary_id"]
    key = (roster_removals.c.campaign_id == data["campaign_id"],
           roster_removals.c.beneficiary_id == beneficiary_id)
    if data["kind"] == "remove":
        session.execute(delete(roster_removals).where(*key))
        session.execute(roster_removals.insert().values(
            campaign_id=data["campaign_id"], beneficiary_id=beneficiary_id,
            removed_at=for_storage(occurred_at), reason=data["reason"][:500]))
    elif data["kind"] == "add":
        session.execute(delete(roster_removals).where(*key))
