"""State-changing commands: idempotency keys and the audit log.

A client sends each state-changing request with an idempotency key. The first request
runs and its result, or its rejection, is stored under the key in the same transaction
as the change. A retry with the same key and the same request gets the stored result
back and changes nothing; the same key with a different request is rejected.
"""

import hashlib
import json
import logging
from datetime import datetime

from sqlalchemy import exc as sa_exc
from sqlalchemy import select

from aixin import errors
from aixin.plumbing import audit_log, idempotency_keys

log = logging.getLogger(__name__)


def fingerprint(request) -> str:
    text = json.dumps(request, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _replay(row, operation: str, request_fingerprint: str):
    if row.operation != operation or row.fingerprint != request_fingerprint:
        raise errors.Conflict(
            "idempotency_key_reused",
            "该幂等键已用于另一个请求：请为新的操作生成新的幂等键。",
            idempotency_key=row.key,
        )
    response = row.response
    if isinstance(response, dict) and "__error__" in response:
        raise errors.error_from_data(response["__error__"])
    return response


def _find(session, key: str):
    return session.execute(
        select(idempotency_keys).where(idempotency_keys.c.key == key)).first()


def run_command(database, key: str, operation: str, request, now: datetime, execute):
    """Run ``execute(session)`` once per idempotency key and return its result.

    The result must be JSON-serialisable. A DomainError raised by ``execute`` is
    stored too, so a retry gets the same rejection.
    """
    if not key:
        raise errors.InvalidInput("missing_idempotency_key",
                                  "缺少幂等键（Idempotency-Key）：请为每个操作生成唯一的键。")
    request_fingerprint = fingerprint(request)
    try:
        with database.transaction() as session:
            row = _find(session, key)
            if row is not None:
                return _replay(row, operation, request_fingerprint)
            response = execute(session)
            session.execute(idempotency_keys.insert().values(
                key=key, operation=operation, fingerprint=request_fingerprint,
                response=response, created_at=now))
            return response
    except errors.DomainError as error:
        _store_rejection(database, key, operation, request_fingerprint, error, now)
        raise
    except sa_exc.IntegrityError:
        # A concurrent request with the same key committed first: return its result.
        with database.reading() as session:
            row = _find(session, key)
        if row is None:
            raise
        return _replay(row, operation, request_fingerprint)


def _store_rejection(database, key, operation, request_fingerprint, error, now) -> None:
    stored = {"__error__": errors.error_as_data(error)}
    try:
        with database.transaction() as session:
            if _find(session, key) is None:
                session.execute(idempotency_keys.insert().values(
                    key=key, operation=operation, fingerprint=request_fingerprint,
                    response=stored, created_at=now))
    except sa_exc.IntegrityError:
        log.info("rejection already stored idempotency_key=%s", key)


def record_audit(session, occurred_at: datetime, actor: str, action: str, subject: str,
                 reason: str | None = None, **details) -> None:
    """Record who did what to which object, when and why, in the caller's transaction."""
    session.execute(audit_log.insert().values(
        occurred_at=occurred_at, actor=actor, action=action, subject=subject,
        reason=reason, details=details or None))
