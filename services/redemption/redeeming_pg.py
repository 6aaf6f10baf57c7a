"""Redeeming on PostgreSQL in two statements: one read, then one write.

The general path (``commands.run_command`` around ``redeeming.redeem``) takes ten
round trips to the database: BEGIN, the idempotency key, the voucher, the conditional
update, three inserts, the stored result and COMMIT, plus the pool's ping. Each costs
the service about 0.3 ms of CPU, more than the checks themselves. On PostgreSQL this
module does the same work in two statements on a connection in autocommit mode:

1. one ``SELECT`` reads the idempotency key and the voucher together;
2. the checks of ``redeeming.checked_redemption`` run in Python, in the same order
   and with the same reason codes;
3. one statement with data-modifying CTEs makes every change: the conditional
   ``UPDATE vouchers ... WHERE state = 'issued'``, then, only for a row it claimed,
   the ``redemptions`` row, the audit row, the ``voucher_redeemed`` outbox row and
   the stored result of the idempotency key. A single statement is one transaction,
   so all of them commit together or none does.

The guards are unchanged: the conditional update claims the voucher at most once, the
unique serial of ``redemptions`` and the primary key of ``idempotency_keys`` stop a
second writer, and a unique violation fails the whole statement. The read happens
before the write, outside its transaction, exactly as at READ COMMITTED in the
general path: the write checks the state again itself. A rejection is stored under
the idempotency key as in ``run_command``. Anything unusual (no key, a serial that is
not valid) goes through the general path, which raises the same errors as before.

``redeem_batch`` does the same for a batch of requests from the gateway, with one
read and one write for the whole batch. It writes only requests that pass every
check; the others go through ``redeem_in_one_statement`` afterwards.
"""

import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import exc as sa_exc

from aixin import commands
from aixin.errors import DomainError
from aixin.outbox import build_event
from aixin.vouchers import canonical_serial, verify_check_code
from services.redemption.domain.reasons import rejection
from services.redemption.fixed_rows import FixedRows
from services.redemption.redeeming import (audit_details, check_voucher_state,
                                           checked_redemption, event_data, result_of)

log = logging.getLogger(__name__)

OPERATION = "redeem"

READ_SQL = """
SELECT k.key, k.operation, k.fingerprint, k.response,
       v.serial, v.campaign_id, v.state, v.township_code, v.issued_at
FROM (SELECT 1) AS one
LEFT JOIN idempotency_keys AS k ON k.key = %(key)s
LEFT JOIN vouchers AS v ON v.serial = %(serial)s
"""

# Every insert selects from ``claimed``, so nothing is written unless the update
# moved this voucher from issued to redeemed.
WRITE_SQL = """
WITH claimed AS (
    UPDATE vouchers
    SET state = 'redeemed', redeemed_at = %(redeemed_at)s,
        redemption_id = %(redemption_id)s
    WHERE serial = %(serial)s AND state = 'issued'
    RETURNING serial
), redemption AS (
    INSERT INTO redemptions (
        redemption_id, campaign_id, serial, merchant_code, township_code, store_id,
        till_session, till_transaction_id, lines, total_fen, voucher_part_fen,
        paid_by_person_fen, redeemed_at, redeemed_by, match_status, audit_state)
    SELECT %(redemption_id)s, %(campaign_id)s, serial, %(merchant_code)s,
           %(township_code)s, %(store_id)s, %(till_session)s,
           %(till_transaction_id)s, %(lines)s::json, %(total_fen)s,
           %(voucher_part_fen)s, %(paid_by_person_fen)s, %(redeemed_at)s,
           %(redeemed_by)s, %(match_status)s, %(audit_state)s
    FROM claimed
), audit AS (
    INSERT INTO audit_log (occurred_at, actor, action, subject, reason, details)
    SELECT %(redeemed_at)s, %(redeemed_by)s, 'redeem_voucher', serial, NULL,
           %(audit_details)s::json
    FROM claimed
), event AS (
    INSERT INTO outbox (event_id, event_type, body, created_at, attempts)
    SELECT %(event_id)s, 'voucher_redeemed', %(event_body)s, %(redeemed_at)s, 0
    FROM claimed
), stored AS (
    INSERT INTO idempotency_keys (key, operation, fingerprint, response, created_at)
    SELECT %(key)s, %(operation)s, %(fingerprint)s, %(response)s::json, %(redeemed_at)s
    FROM claimed
)
SELECT count(*) FROM claimed
"""

STATE_SQL = "SELECT state FROM vouchers WHERE serial = %(serial)s"

# The values of ``_written_values`` that WRITE_SQL takes as JSON text.
JSON_VALUES = ("lines", "audit_details", "response")

# Smaller batches are redeemed one at a time, because PostgreSQL plans and runs
# BATCH_WRITE_SQL at a higher fixed cost than WRITE_SQL.
MIN_BATCH = 2

# The batch forms of READ_SQL and WRITE_SQL: one row per input, in input order.
BATCH_READ_SQL = """
SELECT k.key, k.operation, k.fingerprint, k.response,
       v.serial, v.campaign_id, v.state, v.township_code, v.issued_at
FROM unnest(%(keys)s::text[], %(serials)s::text[]) WITH ORDINALITY
     AS input(key, serial, position)
LEFT JOIN idempotency_keys AS k ON k.key = input.key
LEFT JOIN vouchers AS v ON v.serial = input.serial
ORDER BY input.position
"""

# As in WRITE_SQL, every insert selects from the rows whose voucher the update
# claimed. The serials and keys of one batch are distinct (see ``redeem_batch``).
BATCH_WRITE_SQL = """
WITH input AS (
    SELECT * FROM json_to_recordset(%(rows)s::json) AS i(
        position int, redemption_id text, campaign_id text, serial text,
        merchant_code text, township_code text, store_id text, till_session text,
        till_transaction_id text, lines json, total_fen bigint,
        voucher_part_fen bigint, paid_by_person_fen bigint, redeemed_by text,
        match_status text, audit_state text, audit_details json, event_id text,
        event_body text, key text, fingerprint text, response json)
), claimed AS (
    UPDATE vouchers AS v
    SET state = 'redeemed', redeemed_at = %(redeemed_at)s,
        redemption_id = input.redemption_id
    FROM input
    -- The planner expects 100 rows from json_to_recordset and would scan every
    -- voucher to join them: ANY lets it look up the batch's serials by key.
    WHERE v.serial = ANY(%(serials)s::text[]) AND v.serial = input.serial
      AND v.state = 'issued'
    RETURNING v.serial
), won AS (
    SELECT input.* FROM input JOIN claimed ON claimed.serial = input.serial
), redemption AS (
    INSERT INTO redemptions (
        redemption_id, campaign_id, serial, merchant_code, township_code, store_id,
        till_session, till_transaction_id, lines, total_fen, voucher_part_fen,
        paid_by_person_fen, redeemed_at, redeemed_by, match_status, audit_state)
    SELECT redemption_id, campaign_id, serial, merchant_code, township_code,
           store_id, till_session, till_transaction_id, lines, total_fen,
           voucher_part_fen, paid_by_person_fen, %(redeemed_at)s, redeemed_by,
           match_status, audit_state
    FROM won ORDER BY position
), audit AS (
    INSERT INTO audit_log (occurred_at, actor, action, subject, reason, details)
    SELECT %(redeemed_at)s, redeemed_by, 'redeem_voucher', serial, NULL,
           audit_details
    FROM won ORDER BY position
), event AS (
    INSERT INTO outbox (event_id, event_type, body, created_at, attempts)
    SELECT event_id, 'voucher_redeemed', event_body, %(redeemed_at)s, 0
    FROM won ORDER BY position
), stored AS (
    INSERT INTO idempotency_keys (key, operation, fingerprint, response, created_at)
    SELECT key, %(operation)s, fingerprint, response, %(redeemed_at)s FROM won
)
SELECT serial FROM claimed
"""


def usable(database, idempotency_key: str, request: dict) -> bool:
    """Tell whether this request can take the two-statement path."""
    if not idempotency_key or database.database.engine.dialect.name != "postgresql":
        return False
    try:
        canonical_serial(request["serial"])
    except DomainError:
        return False
    return True


def redeem_in_one_statement(database, voucher_key: bytes, rows: FixedRows,
                            idempotency_key: str, fingerprint_of, campaign_id: str,
                            merchant_code: str, request: dict, actor_name: str,
                            now) -> dict:
    """Redeem like ``run_command(database, idempotency_key, "redeem", fingerprint_of,
    now, redeem)`` does, with the same results, rejections and stored keys.

    ``database`` is the service's ``ServiceDatabase``; call ``usable`` first.
    """
    request_fingerprint = commands.fingerprint(fingerprint_of)
    serial = canonical_serial(request["serial"])
    try:
        with database.database.engine.connect() as connection, _autocommit(connection):
            found = connection.exec_driver_sql(READ_SQL, {
                "key": idempotency_key, "serial": serial}).one()
            if found.key is not None:
                return commands._replay(_stored(found), OPERATION, request_fingerprint)
            row = _checked_row(connection, voucher_key, rows, campaign_id,
                               merchant_code, serial, found, request, actor_name, now)
            values = _written_values(row, idempotency_key, request_fingerprint, now)
            result = values["response"]
            claimed = connection.exec_driver_sql(WRITE_SQL, {
                **values,
                **{name: json.dumps(values[name], ensure_ascii=False)
                   for name in JSON_VALUES},
                "operation": OPERATION,
            }).scalar_one()
            if claimed != 1:
                # Another request claimed or voided the voucher after the read.
                state = connection.exec_driver_sql(STATE_SQL,
                                                   {"serial": serial}).scalar()
                check_voucher_state(state, serial)
                raise rejection("voucher_already_redeemed", serial=serial)
    except DomainError as error:
        commands._store_rejection(database, idempotency_key, OPERATION,
                                  request_fingerprint, error, now)
        raise
    except sa_exc.IntegrityError:
        # A concurrent request with the same key committed first: return its result.
        with database.reading() as session:
            stored = commands._find(session, idempotency_key)
        if stored is None:
            raise
        return commands._replay(stored, OPERATION, request_fingerprint)
    database.events_committed()
    log.info("voucher redeemed serial=%s merchant=%s redemption_id=%s",
             serial, merchant_code, row["redemption_id"])
    return result


@dataclass(frozen=True)
class BatchRequest:
    """One redemption of a batch, already validated; see ``usable``."""

    position: int  # in the caller's batch
    idempotency_key: str
    fingerprint_of: object
    campaign_id: str
    merchant_code: str
    request: dict
    actor_name: str


def redeem_batch(database, voucher_key: bytes, rows: FixedRows,
                 requests: list[BatchRequest], now) -> dict[int, dict]:
    """Redeem, in one read and one write, the requests that pass every check at the
    read; return their results by ``position``.

    Every other request is left to ``redeem_in_one_statement``, called by the
    caller: a key already used (a retry), a rejection (it must be stored under its
    key), a voucher claimed by another request after the read, and a second request
    for a serial or key that is already in this batch. So this function never
    rejects; it only writes what the one-at-a-time path would have written too. If
    the read or the write fails in the database, nothing is written and every
    request is left to the caller.
    """
    batch = _distinct(requests)
    if len(batch) < MIN_BATCH:
        return {}
    writes = []
    try:
        with database.database.engine.connect() as connection, \
                _autocommit(connection):
            found_rows = connection.exec_driver_sql(BATCH_READ_SQL, {
                "keys": [item.idempotency_key for item, _ in batch],
                "serials": [serial for _, serial in batch]}).all()
            for (item, serial), found in zip(batch, found_rows):
                row = _checked_or_none(connection, voucher_key, rows, item, serial,
                                       found, now)
                if row is not None:
                    writes.append((item, row))
            if not writes:
                return {}
            claimed = {found.serial for found in connection.exec_driver_sql(
                BATCH_WRITE_SQL, _batch_write_parameters(writes, now))}
    except sa_exc.DBAPIError as error:
        # One statement is one transaction, so nothing of the batch was written. The
        # caller then redeems each request alone, so a unique violation or a value
        # the database rejects (a NUL character) fails only the request it is in.
        log.info("batch redemption failed, redeeming one at a time requests=%d error=%s",
                 len(batch), type(error.orig).__name__)
        return {}
    results = {}
    for item, row in writes:
        if row["serial"] in claimed:
            results[item.position] = result_of(row)
            log.info("voucher redeemed serial=%s merchant=%s redemption_id=%s",
                     row["serial"], item.merchant_code, row["redemption_id"])
    if results:
        database.events_committed()
    return results


def _distinct(requests: list[BatchRequest]) -> list[tuple[BatchRequest, str]]:
    """Return the first request of each serial and key, with its canonical serial."""
    serials, keys, batch = set(), set(), []
    for item in requests:
        serial = canonical_serial(item.request["serial"])
        if serial in serials or item.idempotency_key in keys:
            continue
        serials.add(serial)
        keys.add(item.idempotency_key)
        batch.append((item, serial))
    return batch


def _checked_row(connection, voucher_key, rows, campaign_id: str, merchant_code: str,
                 serial: str, found, request: dict, actor_name: str, now) -> dict:
    """Run every check on a request, with its voucher as ``found`` contains it.

    Return the ``redemptions`` row to write, or raise the DomainError of the first
    check that fails.
    """
    if not verify_check_code(voucher_key, serial, request["check_code"]):
        raise rejection("invalid_check_code", serial=serial)
    campaign = rows.campaign(connection, campaign_id)
    voucher = found if found.serial is not None else None
    return checked_redemption(connection, rows, campaign, campaign_id, merchant_code,
                              serial, voucher, request, actor_name, now)


def _checked_or_none(connection, voucher_key, rows, item, serial, found, now):
    """Return the redemption row of a request that passes every check, else None."""
    if found.key is not None:
        return None
    try:
        return _checked_row(connection, voucher_key, rows, item.campaign_id,
                            item.merchant_code, serial, found, item.request,
                            item.actor_name, now)
    except DomainError:
        return None


def _written_values(row: dict, idempotency_key: str, request_fingerprint: str,
                    now) -> dict:
    """Return the values that WRITE_SQL and BATCH_WRITE_SQL store for ``row``: its
    columns, the audit details, the event and the idempotency key's result."""
    envelope = build_event("voucher_redeemed", event_data(row), now)
    return {
        **row,
        "audit_details": audit_details(row),
        "event_id": envelope["id"],
        "event_body": json.dumps(envelope, ensure_ascii=False),
        "key": idempotency_key,
        "fingerprint": request_fingerprint,
        "response": result_of(row),
    }


def _batch_write_parameters(writes, now) -> dict:
    inputs = []
    for item, row in writes:
        values = _written_values(row, item.idempotency_key,
                                 commands.fingerprint(item.fingerprint_of), now)
        # Every row of a batch is redeemed at ``now``, passed once beside the rows.
        del values["redeemed_at"]
        inputs.append({**values, "position": item.position})
    return {"rows": json.dumps(inputs, ensure_ascii=False), "redeemed_at": now,
            "serials": [row["serial"] for _, row in writes], "operation": OPERATION}


@contextmanager
def _autocommit(connection):
    """Run each statement as its own transaction on this pooled connection.

    psycopg2's ``autocommit`` flag changes no server state, so it is set and cleared
    directly. SQLAlchemy's ``isolation_level="AUTOCOMMIT"`` option would also work,
    but it restores the isolation level with a round trip at every check-in.
    """
    dbapi_connection = connection.connection.dbapi_connection
    dbapi_connection.autocommit = True
    try:
        yield
    finally:
        if not dbapi_connection.closed:
            dbapi_connection.autocommit = False


class _Stored:
    """A stored key read by ``READ_SQL``, shaped like an ``idempotency_keys`` row."""

    def __init__(self, key, operation, fingerprint, response):
        self.key = key
        self.operation = operation
        self.fingerprint = fingerprint
        self.response = response


def _stored(found) -> _Stored:
    response = found.response
    if isinstance(response, str):
        response = json.loads(response)
    return _Stored(found.key, found.operation, found.fingerprint, response)
