"""The event log: every consumed event, replayable into a fresh read model."""

import logging

from sqlalchemy import insert, select

from aixin import events
from aixin.clock import as_local
from aixin.outbox import jsonable
from services.reporting import projection
from services.reporting.models import event_log

log = logging.getLogger(__name__)


def record_and_apply(session, event) -> None:
    """Store ``event`` in the log and apply it to the read model, in one transaction."""
    session.execute(insert(event_log).values(
        event_id=event.id, event_type=event.type,
        occurred_at=as_local(event.occurred_at), data=jsonable(event.data)))
    projection.apply(session, event.type, event.data)


def rebuild(session) -> dict:
    """Empty the read model and replay the whole event log into it.

    Runs in the caller's transaction, so readers see either the old model or the
    rebuilt one. NOTE: on SQLite this blocks the service for the whole replay.
    """
    projection.clear(session)
    rows = session.execute(select(event_log.c.event_type, event_log.c.data)
                           .order_by(event_log.c.position)).all()
    for row in rows:
        data = events.schema_of(row.event_type).load(row.data)
        projection.apply(session, row.event_type, data)
    log.info("rebuilt the read model events=%s", len(rows))
    return {"events_replayed": len(rows)}
