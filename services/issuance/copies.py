"""The issuance service's copies of other bureaus' data, kept from their events.

Every function applies one event inside the consumer's transaction. Writes are
upserts, because events of different types can arrive in any order.
"""

import json
import logging

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from aixin.commands import record_audit
from aixin.errors import NotFound
from aixin.outbox import jsonable
from aixin.pg_arrays import text_array
from services.issuance.domain import states
from services.issuance.domain.voids import VoidReason
from services.issuance.models import (
    beneficiaries,
    campaigns,
    merchant_townships,
    merchants,
    townships,
    vouchers,
)
from services.issuance.voiding import void_voucher

log = logging.getLogger(__name__)


def _insert_if_absent(session, table, values: dict) -> None:
    """Insert a row unless its key exists, also when another consumer inserts it first.

    Events of different types are consumed concurrently, and several of them may
    create the same township row first.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(table).values(**values).on_conflict_do_nothing())


def _upsert(session, table, key: dict, values: dict) -> None:
    where = [table.c[name] == value for name, value in key.items()]
    _insert_if_absent(session, table, {**key, **values})
    if values:
        session.execute(update(table).where(*where).values(**values))


def _ensure_township(session, campaign_id: str, township_code: str, name: str) -> None:
    key = {"campaign_id": campaign_id, "township_code": township_code}
    where = [townships.c.campaign_id == campaign_id,
             townships.c.township_code == township_code]
    _insert_if_absent(session, townships, {
        **key, "name": name, "amendment_delta": 0, "allocated_fen": 0,
        "last_sequence": 0})
    if name:
        session.execute(update(townships).where(*where, townships.c.name != name)
                        .values(name=name))


def apply_campaign_created(session, data: dict) -> None:
    _upsert(session, campaigns, {"campaign_id": data["campaign_id"]}, {
        "campaign_no": data["campaign_no"], "name": data["name"],
        "district_name": data["district_name"],
        "face_value_fen": data["face_value_fen"],
        "spring_festival": data["spring_festival"],
        "redemption_deadline": data["redemption_deadline"],
        "spare_share_percent": data["spare_share_percent"],
        "config": jsonable(data)})


def apply_merchant_designated(session, data: dict) -> None:
    campaign_id = data["campaign_id"]
    _upsert(session, merchants,
            {"campaign_id": campaign_id, "merchant_code": data["merchant_code"]},
            {"name": data["name"], "valid_from": data["valid_from"],
             "valid_to": data["valid_to"]})
    for township_code in sorted(set(data["township_codes"])):
        _upsert(session, merchant_townships,
                {"campaign_id": campaign_id, "merchant_code": data["merchant_code"],
                 "township_code": township_code}, {})


# Rows per multi-row upsert: 12 columns each stays below SQLite's limit of 32,766
# bound parameters (SQLite 3.32 and later).
UPSERT_CHUNK_ROWS = 1000
_BENEFICIARY_FIELDS = ("name", "masked_id", "township_code", "village", "categories",
                       "support_mode", "institution")


def _beneficiary_values(person: dict) -> dict:
    return {"name": person["name"], "masked_id": person["masked_id"],
            "township_code": person["township_code"], "village": person["village"],
            "categories": list(person["categories"]),
            "support_mode": person["support_mode"],
            "institution": person.get("institution")}


def apply_roster_published(session, data: dict) -> None:
    """Upsert a batch of beneficiaries and their townships, a few statements per batch.

    Each beneficiary becomes ``entitled`` with the published data, as one row-by-row
    upsert would leave it. On PostgreSQL the whole batch is one statement over
    column arrays; elsewhere rows are sent in chunks of ``UPSERT_CHUNK_ROWS``.
    """
    campaign_id = data["campaign_id"]
    township_names: dict[str, str] = {}
    for person in data["beneficiaries"]:
        township_names[person["township_code"]] = person["township_name"]
    # Keyed by beneficiary: one statement may not update a row twice (PostgreSQL), and
    # the last copy of a repeated person wins, as with one upsert per person.
    by_id = {person["beneficiary_id"]: person for person in data["beneficiaries"]}
    if session.get_bind().dialect.name == "postgresql":
        _ensure_townships_postgres(session, campaign_id, township_names)
        _upsert_beneficiaries_postgres(session, campaign_id, list(by_id.values()))
        return
    for code in sorted(township_names):
        _ensure_township(session, campaign_id, code, township_names[code])
    rows = [{"campaign_id": campaign_id, "beneficiary_id": beneficiary_id,
             **_beneficiary_values(person), "status": "entitled"}
            for beneficiary_id, person in by_id.items()]
    for start in range(0, len(rows), UPSERT_CHUNK_ROWS):
        statement = sqlite.insert(beneficiaries).values(
            rows[start:start + UPSERT_CHUNK_ROWS])
        updated = {name: statement.excluded[name]
                   for name in (*_BENEFICIARY_FIELDS, "status")}
        session.execute(statement.on_conflict_do_update(
            index_elements=["campaign_id", "beneficiary_id"], set_=updated))


_UNNEST_UPSERT = f"""
INSERT INTO beneficiaries
    (campaign_id, beneficiary_id, {", ".join(_BENEFICIARY_FIELDS)}, status)
SELECT %s, b.beneficiary_id, b.name, b.masked_id, b.township_code, b.village,
       b.categories::json, b.support_mode, b.institution, 'entitled'
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
            %s::text[], %s::text[])
     AS b(beneficiary_id, name, masked_id, township_code, village, categories,
          support_mode, institution)
ON CONFLICT (campaign_id, beneficiary_id) DO UPDATE SET
    {", ".join(f"{name} = excluded.{name}" for name in _BENEFICIARY_FIELDS)},
    status = excluded.status
"""


# As _ensure_township for many townships: insert if absent, else take a new name.
_UNNEST_TOWNSHIPS = """
INSERT INTO townships (campaign_id, township_code, name, amendment_delta,
                       allocated_fen, last_sequence)
SELECT %s, t.code, t.name, 0, 0, 0 FROM unnest(%s::text[], %s::text[]) AS t(code, name)
ON CONFLICT (campaign_id, township_code) DO UPDATE SET name = excluded.name
    WHERE excluded.name <> '' AND townships.name <> excluded.name
"""


def _ensure_townships_postgres(session, campaign_id: str, names: dict) -> None:
    codes = sorted(names)  # the same lock order in every consumer
    session.connection().exec_driver_sql(_UNNEST_TOWNSHIPS, (
        campaign_id, text_array(codes), text_array([names[code] for code in codes])))


def _upsert_beneficiaries_postgres(session, campaign_id: str, persons: list) -> None:
    """One ``INSERT ... SELECT FROM unnest ... ON CONFLICT DO UPDATE`` for a batch.

    ``categories`` is JSON text as SQLAlchemy's JSON type would write it.
    """
    if not persons:
        return
    categories: dict[tuple, str] = {}
    columns = [
        [person["beneficiary_id"] for person in persons],
        [person["name"] for person in persons],
        [person["masked_id"] for person in persons],
        [person["township_code"] for person in persons],
        [person["village"] for person in persons],
        [_json_list(categories, person["categories"]) for person in persons],
        [person["support_mode"] for person in persons],
        [person.get("institution") for person in persons],
    ]
    session.connection().exec_driver_sql(
        _UNNEST_UPSERT, (campaign_id, *(text_array(column) for column in columns)))


def _json_list(cache: dict, values) -> str:
    key = tuple(values)
    text = cache.get(key)
    if text is None:
        text = cache[key] = json.dumps(list(values))
    return text


def apply_roster_publication_completed(session, data: dict) -> None:
    for township in data["townships"]:
        _ensure_township(session, data["campaign_id"], township["code"],
                         township["name"])
        session.execute(update(townships).where(
            townships.c.campaign_id == data["campaign_id"],
            townships.c.township_code == township["code"])
            .values(published_eligible=township["eligible"]))


def apply_funds_allocated(session, data: dict) -> None:
    where = [townships.c.campaign_id == data["campaign_id"],
             townships.c.township_code == data["township_code"]]
    _ensure_township(session, data["campaign_id"], data["township_code"], "")
    session.execute(update(townships).where(*where).values(
        allocated_fen=townships.c.allocated_fen + data["amount_fen"],
        funds_allocated_at=func.coalesce(townships.c.funds_allocated_at,
                                         data["allocated_at"])))
    record_audit(session, data["allocated_at"], "settlement", "funds_allocated",
                 data["township_code"], None, campaign_id=data["campaign_id"],
                 amount_fen=data["amount_fen"], transfer_id=data["transfer_id"])


def apply_roster_amended(session, data: dict, now) -> None:
    """Add an entitlement, or end one and void the person's live voucher."""
    campaign_id = data["campaign_id"]
    person = data["beneficiary"]
    key = {"campaign_id": campaign_id, "beneficiary_id": person["beneficiary_id"]}
    where = [beneficiaries.c[name] == value for name, value in key.items()]
    before = session.execute(select(beneficiaries.c.status).where(*where)).first()
    _ensure_township(session, campaign_id, person["township_code"],
                     person["township_name"])
    kind = data["kind"]
    if kind == "add":
        _upsert(session, beneficiaries, key,
                {**_beneficiary_values(person), "status": "entitled",
                 "status_reason": data["reason"]})
        if before is None or before.status != "entitled":
            _adjust_eligible(session, campaign_id, person["township_code"], +1)
    elif kind == "remove":
        _upsert(session, beneficiaries, key,
                {**_beneficiary_values(person), "status": "removed",
                 "status_reason": data["reason"]})
        if before is None or before.status == "entitled":
            _adjust_eligible(session, campaign_id, person["township_code"], -1)
        _void_live_vouchers(session, campaign_id, person["beneficiary_id"],
                            data["operator"], data["reason"], now)
    else:
        _upsert(session, beneficiaries, key, _beneficiary_values(person))
    record_audit(session, now, data["operator"], f"roster_{kind}",
                 person["beneficiary_id"], data["reason"], campaign_id=campaign_id,
                 amendment_id=data["amendment_id"])


def _adjust_eligible(session, campaign_id: str, township_code: str, delta: int):
    session.execute(update(townships).where(
        townships.c.campaign_id == campaign_id,
        townships.c.township_code == township_code)
        .values(amendment_delta=townships.c.amendment_delta + delta))


def _void_live_vouchers(session, campaign_id, beneficiary_id, operator, reason, now):
    rows = session.execute(select(vouchers).where(
        vouchers.c.campaign_id == campaign_id,
        vouchers.c.beneficiary_id == beneficiary_id,
        vouchers.c.state == states.VoucherState.ISSUED)).all()
    for row in rows:
        void_voucher(session, row, VoidReason.ROSTER_AMENDMENT, operator, now,
                     note=reason)


def apply_voucher_redeemed(session, data: dict) -> None:
    row = session.execute(select(vouchers).where(
        vouchers.c.serial == data["serial"])).first()
    if row is None:
        raise NotFound("voucher_not_found",
                       f"核销的券号 {data['serial']} 未在发放系统中印制。",
                       serial=data["serial"])
    # A voided or redeemed voucher raises VoucherVoided or VoucherAlreadyRedeemed,
    # so the consumer parks the event for an operator. The redemption service then
    # accepted a voucher that this service no longer counts as outstanding.
    new_state = states.redeem(row.state, row.serial)
    session.execute(update(vouchers).where(vouchers.c.serial == row.serial).values(
        state=new_state, redemption_id=data["redemption_id"],
        redeemed_at=data["redeemed_at"],
        redeemed_merchant_code=data["merchant_code"]))
    record_audit(session, data["redeemed_at"], data["merchant_code"], "redeem",
                 row.serial, None, redemption_id=data["redemption_id"])
