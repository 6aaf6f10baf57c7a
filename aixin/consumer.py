"""Idempotent, parking event consumption, independent of nameko.

``apply_event`` validates an incoming envelope, applies it once in the consumer's own
transaction together with a ``processed_events`` row, and decides what happens when it
fails:

- schema-invalid or unparsable bodies, and handler errors that a retry cannot fix, are
  parked in ``parked_messages`` with the reason, and the message is acknowledged so
  other traffic flows;
- transient database failures raise ``RetryLater`` so the message goes back to the
  queue and is processed once the database is back.
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from marshmallow import ValidationError
from sqlalchemy import exc as sa_exc
from sqlalchemy import select

from aixin import events
from aixin.errors import DomainError
from aixin.plumbing import parked_messages, processed_events

log = logging.getLogger(__name__)

TRANSIENT_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


class RetryLater(Exception):
    """A failure that may pass: the message must be requeued, not dropped."""


@dataclass(frozen=True)
class ReceivedEvent:
    id: str
    type: str
    occurred_at: datetime
    correlation_id: str | None
    data: dict


def parse_event(event_type: str, body) -> ReceivedEvent:
    """Validate an envelope and its data; raise ValueError naming what is wrong."""
    if isinstance(body, (bytes, str)):
        body = json.loads(body)
    if not isinstance(body, dict):
        raise ValueError(f"event body must be a JSON object, got {type(body).__name__}")
    missing = [key for key in ("id", "type", "occurred_at", "data") if key not in body]
    if missing:
        raise ValueError(f"event envelope lacks {', '.join(missing)}")
    if body["type"] != event_type:
        raise ValueError(f"event type {body['type']!r} arrived on the {event_type} queue")
    try:
        data = events.spec_of(event_type).schema().load(body["data"])
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
    """Keep a message that cannot be applied, for an operator to list and replay."""
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False,
                                                         default=str)
    event_id = body.get("id") if isinstance(body, dict) else None
    event_type = body.get("type") if isinstance(body, dict) else None
    with database.transaction() as session:
        session.execute(parked_messages.insert().values(
            handler=handler, event_id=event_id, event_type=event_type, body=text,
            reason=reason[:2000], parked_at=clock.now()))
    log.error("parked message handler=%s event_id=%s reason=%s", handler, event_id, reason)


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
    try:
        with database.transaction() as session:
            seen = session.execute(select(processed_events.c.event_id).where(
                processed_events.c.event_id == event.id,
                processed_events.c.handler == handler)).first()
            if seen:
                log.info("ignored duplicate event handler=%s event_id=%s", handler, event.id)
                return "duplicate"
            apply(session, event)
            session.execute(processed_events.insert().values(
                event_id=event.id, handler=handler, processed_at=clock.now()))
    except sa_exc.IntegrityError as error:
        if _was_processed(database, handler, event.id):
            # Another worker applied the same event between our check and our commit.
            log.info("ignored concurrent duplicate handler=%s event_id=%s",
                     handler, event.id)
            return "duplicate"
        park(database, clock, handler, body, f"integrity error: {error.orig}")
        return "parked"
    except TRANSIENT_ERRORS as error:
        log.warning("transient failure, message requeued handler=%s event_id=%s error=%s",
                    handler, event.id, error)
        raise RetryLater(str(error)) from error
    except DomainError as error:
        park(database, clock, handler, body, f"{error.code}: {error.message}")
        return "parked"
    except Exception as error:  # noqa: BLE001 - park any bug instead of losing the event
        log.exception("handler failed handler=%s event_id=%s", handler, event.id)
        park(database, clock, handler, body, f"{type(error).__name__}: {error}")
        return "parked"
    return "applied"


def _was_processed(database, handler: str, event_id: str) -> bool:
    with database.reading() as session:
        return session.execute(select(processed_events.c.event_id).where(
            processed_events.c.event_id == event_id,
            processed_events.c.handler == handler)).first() is not None
