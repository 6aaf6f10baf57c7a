"""Apply each consumed event to the read model.

Handlers only set values or add to counters on rows keyed by the event's own ids,
so applying the same events in any order yields the same figures. ``apply`` is used
both by the live consumers and by ``rebuild``.
"""

import logging

from sqlalchemy import delete, insert, update
from sqlalchemy.dialects import postgresql, sqlite

from aixin.clock import as_local
from services.reporting.models import (READ_MODEL_TABLES, beneficiaries, campaigns,
                                       flag_checks, open_flag_vouchers, open_flags,
                                       townships, vouchers)

log = logging.getLogger(__name__)

CAMPAIGN_DEFAULTS = {"funds_expected_fen": 0, "funds_received_fen": 0,
                     "merchants_paid_fen": 0, "reminders_sent": 0}
TOWNSHIP_DEFAULTS = {"eligible_published": 0, "eligible_amended": 0, "allocated_fen": 0}


def _insert_missing(session, table, values: dict) -> None:
    """Insert a row unless its primary key exists; concurrent workers may race here."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(table).values(**values).on_conflict_do_nothing())


def _key(table, **ids):
    return [table.c[name] == value for name, value in ids.items()]


def _campaign(session, campaign_id: str):
    _insert_missing(session, campaigns, {"campaign_id": campaign_id,
                                         **CAMPAIGN_DEFAULTS})
    return update(campaigns).where(campaigns.c.campaign_id == campaign_id)


def _township(session, campaign_id: str, township_code: str):
    ids = {"campaign_id": campaign_id, "township_code": township_code}
    _insert_missing(session, townships, {**ids, **TOWNSHIP_DEFAULTS})
    return update(townships).where(*_key(townships, **ids))


def _voucher(session, campaign_id: str, serial: str, township_code: str):
    ids = {"campaign_id": campaign_id, "serial": serial}
    _insert_missing(session, vouchers, {**ids, "township_code": township_code})
    return update(vouchers).where(*_key(vouchers, **ids))


def _day(moment):
    return as_local(moment).date()


def on_campaign_created(session, data):
    config = {key: (value.isoformat() if hasattr(value, "isoformat") else value)
              for key, value in data.items()}
    session.execute(_campaign(session, data["campaign_id"]).values(config=config))


def on_merchant_designated(session, data):
    _campaign(session, data["campaign_id"])


def on_roster_published(session, data):
    for person in data["beneficiaries"]:
        _insert_missing(session, beneficiaries, {
            "campaign_id": data["campaign_id"],
            "beneficiary_id": person["beneficiary_id"],
            "township_code": person["township_code"],
            "village": person["village"] or person.get("institution"),
            "removed": False})


def on_roster_publication_completed(session, data):
    for township in data["townships"]:
        session.execute(_township(session, data["campaign_id"], township["code"])
                        .values(name=township["name"],
                                eligible_published=township["eligible"]))


def on_roster_amended(session, data):
    person = data["beneficiary"]
    campaign_id = data["campaign_id"]
    ids = {"campaign_id": campaign_id, "beneficiary_id": person["beneficiary_id"]}
    row = {"township_code": person["township_code"],
           "village": person["village"] or person.get("institution")}
    _insert_missing(session, beneficiaries, {**ids, **row, "removed": False})
    delta = {"remove": -1, "add": 1}.get(data["kind"], 0)
    values = {**row, "removed": data["kind"] == "remove"}
    session.execute(update(beneficiaries).where(*_key(beneficiaries, **ids))
                    .values(**values))
    if delta:
        update_township = _township(session, campaign_id, person["township_code"])
        session.execute(update_township.values(
            name=person["township_name"],
            eligible_amended=townships.c.eligible_amended + delta))


def on_vouchers_printed(session, data):
    printed_on = _day(data["printed_at"])
    for serial in data["serials"]:
        session.execute(_voucher(session, data["campaign_id"], serial,
                                 data["township_code"]).values(printed_on=printed_on))


def on_voucher_issued(session, data):
    session.execute(_voucher(session, data["campaign_id"], data["serial"],
                             data["township_code"]).values(
        beneficiary_id=data["beneficiary_id"],
        beneficiary_name=data["beneficiary_name"],
        masked_id=data["masked_id"],
        village=data["village"] or data["institution"],
        issued_on=_day(data["issued_at"]),
        late=data["late"]))


def on_voucher_voided(session, data):
    session.execute(_voucher(session, data["campaign_id"], data["serial"],
                             data["township_code"]).values(
        voided_on=_day(data["voided_at"])))


def on_voucher_redeemed(session, data):
    session.execute(_voucher(session, data["campaign_id"], data["serial"],
                             data["township_code"]).values(
        redemption_id=data["redemption_id"],
        redeemed_on=_day(data["redeemed_at"]),
        voucher_part_fen=data["voucher_part_fen"],
        paid_by_person_fen=data["paid_by_person_fen"]))


def on_redemptions_audited(session, data):
    outcomes = [("approved", item) for item in data["approved"]]
    outcomes += [("rejected", item) for item in data["rejected"]]
    audited_at = as_local(data["audited_at"])
    for status, item in outcomes:
        statement = _voucher(session, data["campaign_id"], item["serial"],
                             item["township_code"])
        # A later audit of the same redemption wins, whatever the arrival order.
        statement = statement.where((vouchers.c.audited_at.is_(None))
                                    | (vouchers.c.audited_at <= audited_at))
        session.execute(statement.values(audit_status=status, audited_at=audited_at))


def on_cashout_flags_changed(session, data):
    campaign_id = data["campaign_id"]
    checked_at = as_local(data["checked_at"])
    _insert_missing(session, flag_checks, {"campaign_id": campaign_id, "version": 0,
                                           "checked_at": checked_at})
    # Each event lists every open flag, so the highest version replaces the list and
    # an older version arriving later changes nothing.
    newer = session.execute(update(flag_checks).where(
        flag_checks.c.campaign_id == campaign_id,
        flag_checks.c.version < data["version"])
        .values(version=data["version"], checked_at=checked_at))
    if newer.rowcount != 1:
        return
    for table in (open_flag_vouchers, open_flags):
        session.execute(delete(table).where(table.c.campaign_id == campaign_id))
    unique = {flag["flag_id"]: flag for flag in data["open_flags"]}
    for _, flag in sorted(unique.items()):
        ids = {"campaign_id": campaign_id, "flag_id": flag["flag_id"]}
        session.execute(insert(open_flags).values(
            **ids, rule=flag["rule"], label=flag["label"],
            explanation=flag["explanation"], merchant_code=flag["merchant_code"]))
        serials = {item["serial"]: item["township_code"]
                   for item in flag["redemptions"]}
        for serial, township_code in sorted(serials.items()):
            session.execute(insert(open_flag_vouchers).values(
                **ids, serial=serial, township_code=township_code))


def on_funds_received(session, data):
    session.execute(_campaign(session, data["campaign_id"]).values(
        funds_received_fen=campaigns.c.funds_received_fen + data["amount_fen"],
        funds_expected_fen=data["expected_fen"]))


def on_funds_allocated(session, data):
    session.execute(_township(session, data["campaign_id"], data["township_code"])
                    .values(allocated_fen=townships.c.allocated_fen
                            + data["amount_fen"]))


def on_merchant_paid(session, data):
    session.execute(_campaign(session, data["campaign_id"]).values(
        merchants_paid_fen=campaigns.c.merchants_paid_fen + data["amount_fen"]))


def on_township_cleared(session, data):
    session.execute(_township(session, data["campaign_id"], data["township_code"])
                    .values(cleared_reimbursed_fen=data["reimbursed_fen"],
                            refund_fen=data["refund_fen"]))


def on_district_cleared(session, data):
    session.execute(_campaign(session, data["campaign_id"]).values(
        district_refund_fen=data["refund_fen"]))


def on_reminder_sent(session, data):
    session.execute(_campaign(session, data["campaign_id"]).values(
        reminders_sent=campaigns.c.reminders_sent + 1))


HANDLERS = {name[len("on_"):]: handler for name, handler in globals().items()
            if name.startswith("on_")}


def apply(session, event_type: str, data: dict) -> None:
    HANDLERS[event_type](session, data)


def clear(session) -> None:
    """Delete every read-model row, keeping the event log."""
    for table in READ_MODEL_TABLES:
        session.execute(delete(table))
