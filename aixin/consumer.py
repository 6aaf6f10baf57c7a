"""Idempotent, parking event consumption, independent of nameko.

``apply_event`` validates an incoming envelope, applies it once in the consumer's own
transaction together with a ``processed_events`` row, and decides what happens when it
fails:

- schema-invalid or unparsable bodies, and handler errors that a retry cannot fix, are
  parked in ``parked_messages`` with the reason, and the message is acknowledged so
  other traffic flows;
- transient database failures raise ``RetryLater`` so the message goes back to the
  queue and is processed once the database is back.

Bodies that kombu cannot decode (bad JSON, a content type other than JSON) arrive as
``UndecodableBody`` and are parked like schema-invalid ones. ``list_parked`` and
``replay_parked`` let an operator see the parked messages and apply one again.
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from marshmallow import ValidationError
from sqlalchemy import exc as sa_exc
from sqlalchemy import select, update

from aixin import events
from aixin.errors import DomainError
from aixin.plumbing import parked_messages, processed_events

log = logging.getLogger(__name__)

TRANSIENT_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


class RetryLater(Exception):
    """A failure that may pass: the message must be requeued, not dropped."""


@dataclass(frozen=True)
class UndecodableBody:
    """A message body that could not be decoded, with the decoder's reason."""

    text: str
    reason: str


@dataclass(frozen=True)
class ReceivedEvent:
    id: str
    type: str
    occurred_at: datetime
    correlation_id: str | None
    data: dict


def parse_event(event_type: str, body) -> ReceivedEvent:
    """Validate an envelope and its data; raise ValueError naming what is wrong."""
    if isinstance(body, UndecodableBody):
        raise ValueError(body.reason)
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if isinstance(body, str):
        body = json.loads(body)
    if not isinstance(body, dict):
        raise ValueError(f"event body must be a JSON object, got {type(body).__name__}")
    missing = [key for key in ("id", "type", "occurred_at", "data") if key not in body]
    if missing:
        raise ValueError(f"event envelope lacks {', '.join(missing)}")
    if body["type"] != event_type:
        raise ValueError(f"event type {body['type']!r} arrived on the {event_type} queue")
    try:
        data = events.schema_of(event_type).load(body["data"])
    except ValidationError as error:
        raise ValueError(f"invalid {event_type} data: {error.messages}") from None
    return ReceivedEvent(
        id=str(body["id"]),
        type=event_type,
        occurred_at=datetime.fromisoformat(body["occurred_at"]),
        correlation_id=body.get("correlation_id"),
        data=data,
    )


def park(database, clock, handler: str, body, reason: str) -> None:
    """Keep a message that cannot be applied, for an operator to list and replay.

    Raises RetryLater when the database cannot take the parked message either, so
    the message goes back to the queue instead of being lost.
    """
    if isinstance(body, UndecodableBody):
        text = body.text
    elif isinstance(body, str):
        text = body
    else:
        text = json.dumps(body, ensure_ascii=False, default=str)
    event_id = body.get("id") if isinstance(body, dict) else None
    event_type = body.get("type") if isinstance(body, dict) else None
    try:
        with database.transaction() as session:
            if _already_parked(session, handler, event_id, text):
                # A redelivery of a message parked before its ack was lost.
                log.info("message already parked handler=%s event_id=%s",
                         handler, event_id)
                return
            session.execute(parked_messages.insert().values(
                handler=handler, event_id=str(event_id)[:64] if event_id else None,
                event_type=str(event_type)[:64] if event_type else None, body=text,
                reason=reason[:2000], parked_at=clock.now()))
    except TRANSIENT_ERRORS as error:
        log.warning("cannot park message now, requeued handler=%s error=%s",
                    handler, error)
        raise RetryLater(str(error)) from error
    log.error("parked message handler=%s event_id=%s reason=%s", handler, event_id, reason)


def _already_parked(session, handler: str, event_id, text: str) -> bool:
    """Return whether the same message waits parked, not yet replayed."""
    same = (parked_messages.c.event_id == str(event_id)[:64] if event_id
            else parked_messages.c.body == text)
    return session.execute(select(parked_messages.c.id).where(
        parked_messages.c.handler == handler, parked_messages.c.replayed_at.is_(None),
        same).limit(1)).first() is not None


def apply_event(database, clock, handler: str, event_type: str, body, apply) -> str:
    """Apply ``body`` once with ``apply(session, event)``; return the outcome.

    Outcomes: ``applied``, ``duplicate`` or ``parked``. Raises RetryLater on a
    transient database failure.
    """
    try:
        event = parse_event(event_type, body)
    except (ValueError, TypeError) as error:
        park(database, clock, handler, body, str(error))
        return "parked"
    outcome, reason = _apply_once(database, clock, handler, event, apply)
    if outcome == "failed":
        park(database, clock, handler, body, reason)
        return "parked"
    return outcome


def _apply_once(database, clock, handler: str, event: ReceivedEvent, apply,
                also=None) -> tuple[str, str | None]:
    """Apply ``event`` in one transaction with its processed_events row.

    Returns ``(applied|duplicate|failed, reason)``; ``also(session)`` runs in the
    same transaction when the event is applied. Raises RetryLater when transient.
    """
    try:
        with database.transaction() as session:
            seen = session.execute(select(processed_events.c.event_id).where(
                processed_events.c.event_id == event.id,
                processed_events.c.handler == handler)).first()
            if seen:
                log.info("ignored duplicate event handler=%s event_id=%s", handler, event.id)
                if also:
                    also(session)
                return "duplicate", None
            apply(session, event)
            session.execute(processed_events.insert().values(
                event_id=event.id, handler=handler, processed_at=clock.now()))
            if also:
                also(session)
    except sa_exc.IntegrityError as error:
        try:
            processed = _was_processed(database, handler, event.id)
        except TRANSIENT_ERRORS as transient:
            raise RetryLater(str(transient)) from transient
        if processed:
            # Another worker applied the same event between our check and our commit.
            log.info("ignored concurrent duplicate handler=%s event_id=%s",
                     handler, event.id)
            return "duplicate", None
        return "failed", f"integrity error: {error.orig}"
    except TRANSIENT_ERRORS as error:
        log.warning("transient failure, message requeued handler=%s event_id=%s error=%s",
                    handler, event.id, error)
        raise RetryLater(str(error)) from error
    except DomainError as error:
        return "failed", f"{error.code}: {error.message}"
    except Exception as error:  # noqa: BLE001 - park any bug instead of losing the event
        log.exception("handler failed handler=%s event_id=%s", handler, event.id)
        return "failed", f"{type(error).__name__}: {error}"
    return "applied", None


def list_parked(database, handler_prefix: str | None = None,
                include_replayed: bool = False, limit: int = 200) -> list[dict]:
    """The parked messages, oldest first, for an operator to inspect."""
    query = select(parked_messages).order_by(parked_messages.c.id).limit(limit)
    if handler_prefix:
        query = query.where(parked_messages.c.handler.startswith(handler_prefix))
    if not include_replayed:
        query = query.where(parked_messages.c.replayed_at.is_(None))
    with database.reading() as session:
        rows = session.execute(query).all()
    return [{"id": row.id, "handler": row.handler, "event_id": row.event_id,
             "event_type": row.event_type, "reason": row.reason,
             "parked_at": row.parked_at.isoformat() if row.parked_at else None,
             "replayed_at": row.replayed_at.isoformat() if row.replayed_at else None,
             "body": row.body} for row in rows]


def replay_parked(database, clock, parked_id: int, appliers: dict) -> dict:
    """Apply a parked message again through its handler.

    ``appliers`` maps a handler id to ``(event_type, apply)``. On success the parked
    row is marked replayed in the same transaction; on failure it stays parked with
    the new reason. Returns ``{"id", "outcome", "reason"}``.
    """
    with database.reading() as session:
        row = session.execute(select(parked_messages).where(
            parked_messages.c.id == parked_id)).first()
    if row is None:
        return {"id": parked_id, "outcome": "not_found", "reason": None}
    if row.replayed_at is not None:
        return {"id": parked_id, "outcome": "already_replayed", "reason": None}
    if row.handler not in appliers:
        return {"id": parked_id, "outcome": "failed",
                "reason": f"no handler {row.handler} in this service"}
    event_type, apply = appliers[row.handler]
    try:
        event = parse_event(event_type, row.body)
    except (ValueError, TypeError) as error:
        outcome, reason = "failed", str(error)
    else:
        def mark_replayed(session):
            session.execute(update(parked_messages).where(
                parked_messages.c.id == parked_id,
                parked_messages.c.replayed_at.is_(None)).values(replayed_at=clock.now()))

        outcome, reason = _apply_once(database, clock, row.handler, event, apply,
                                      also=mark_replayed)
    if outcome == "failed":
        with database.transaction() as session:
            session.execute(update(parked_messages).where(
                parked_messages.c.id == parked_id).values(reason=reason[:2000]))
        log.warning("replay failed parked_id=%s handler=%s reason=%s",
                    parked_id, row.handler, reason)
    else:
        log.info("replayed parked message parked_id=%s handler=%s outcome=%s",
                 parked_id, row.handler, outcome)
    return {"id": parked_id, "outcome": outcome, "reason": reason}


def _was_processed(database, handler: str, event_id: str) -> bool:
    with database.reading() as session:
        return session.execute(select(processed_events.c.event_id).where(
            processed_events.c.event_id == event_id,
            processed_events.c.handler == handler)).first() is not None
