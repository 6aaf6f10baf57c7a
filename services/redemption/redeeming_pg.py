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
"""

import json
import logging
from contextlib import contextmanager

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
            if not verify_check_code(voucher_key, serial, request["check_code"]):
                raise rejection("invalid_check_code", serial=serial)
            campaign = rows.campaign(connection, campaign_id)
            voucher = found if found.serial is not None else None
            row = checked_redemption(connection, rows, campaign, campaign_id,
                                     merchant_code, serial, voucher, request,
                                     actor_name, now)
            result = result_of(row)
            envelope = build_event("voucher_redeemed", event_data(row), now)
            claimed = connection.exec_driver_sql(WRITE_SQL, {
                **row,
                "lines": json.dumps(row["lines"], ensure_ascii=False),
                "audit_details": json.dumps(audit_details(row), ensure_ascii=False),
                "event_id": envelope["id"],
                "event_body": json.dumps(envelope, ensure_ascii=False),
                "key": idempotency_key,
                "operation": OPERATION,
                "fingerprint": request_fingerprint,
                "response": json.dumps(result, ensure_ascii=False),
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
