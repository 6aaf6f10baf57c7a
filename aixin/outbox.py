"""The transactional outbox and the relay that publishes it.

``record_event`` adds an event to the ``outbox`` table inside the caller's transaction,
so the event exists exactly when the change it announces was committed. The relay reads
unpublished rows in order, publishes each one to RabbitMQ with publisher confirms and
``mandatory`` set, and marks it published only after the broker confirmed it. A relay
that stops between the publish and the mark publishes the event again on restart;
consumers drop the duplicate by its id.
"""

import json
import logging
import uuid
from datetime import date, datetime

from kombu import Connection, Exchange, Queue
from nameko.constants import PERSISTENT
from sqlalchemy import case, func, null, select, update
from sqlalchemy.orm import Session

from aixin import events
from aixin.fault_hooks import crash_point
from aixin.plumbing import outbox

log = logging.getLogger(__name__)

RELAY_BATCH_SIZE = 200
# A pass reads bodies up to this size with the rows it locks. A larger body (a
# roster_published batch can be megabytes) is read alone just before it is
# published, so a pass never keeps RELAY_BATCH_SIZE large bodies in memory at once.
RELAY_INLINE_BODY_BYTES = 64 * 1024


class EventValidationError(ValueError):
    """An event whose data does not match its schema in the catalogue."""


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def jsonable(value):
    """Convert dates, datetimes, sets and tuples inside ``value`` to JSON types."""
    if type(value) in _JSON_SCALARS:
        return value
    # Scalars are passed over without a call: a roster batch has millions of them.
    if isinstance(value, dict):
        return {key: item if type(item) in _JSON_SCALARS else jsonable(item)
                for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return [item if type(item) in _JSON_SCALARS else jsonable(item)
                for item in items]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def build_event(event_type: str, data: dict, occurred_at: datetime,
                correlation_id: str | None = None) -> dict:
    """Return the event envelope for ``data``, validated against the catalogue."""
    schema = events.schema_of(event_type)
    dumped = jsonable(data)
    problems = schema.validate(dumped)
    if problems:
        raise EventValidationError(f"invalid {event_type} event: {problems}")
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "occurred_at": occurred_at.isoformat(),
        "correlation_id": correlation_id,
        "data": dumped,
    }


def record_event(session: Session, event_type: str, data: dict, occurred_at: datetime,
                 correlation_id: str | None = None) -> str:
    """Add an event to the outbox in the caller's transaction and return its id."""
    envelope = build_event(event_type, data, occurred_at, correlation_id)
    session.execute(outbox.insert().values(
        event_id=envelope["id"],
        event_type=event_type,
        body=json.dumps(envelope, ensure_ascii=False),
        created_at=occurred_at,
        attempts=0,
    ))
    session.info["outbox_written"] = True
    return envelope["id"]


class BrokerPublisher:
    """Publishes envelopes to nameko event exchanges with publisher confirms."""

    def __init__(self, amqp_uri: str, producer: str, connect_timeout: float = 5):
        self.amqp_uri = amqp_uri
        self.producer = producer
        self.connect_timeout = connect_timeout
        self.exchange = Exchange(events.exchange_name(producer), type="topic",
                                 durable=True, delivery_mode=PERSISTENT)
        self._connection = None
        self._kombu_producer = None

    def _queues_for(self, event_type: str) -> list[Queue]:
        return [
            Queue(events.queue_name(event_type, consumer), exchange=self.exchange,
                  routing_key=event_type, durable=True, auto_delete=False)
            for consumer in events.spec_of(event_type).consumers
        ]

    def _ensure_connection(self):
        if self._kombu_producer is None:
            self._connection = Connection(
                self.amqp_uri,
                transport_options={"confirm_publish": True},
                connect_timeout=self.connect_timeout,
            )
            self._connection.ensure_connection(max_retries=1)
            self._kombu_producer = self._connection.Producer(serializer="json")
        return self._kombu_producer

    def publish(self, envelope: dict) -> None:
        producer = self._ensure_connection()
        event_type = envelope["type"]
        producer.publish(
            envelope,
            exchange=self.exchange,
            routing_key=event_type,
            declare=[self.exchange, *self._queues_for(event_type)],
            mandatory=True,
            delivery_mode=PERSISTENT,
            message_id=envelope["id"],
            headers={"nameko.correlation_id": envelope.get("correlation_id") or ""},
            retry=False,
        )

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # noqa: BLE001 - closing a broken connection may fail
                log.debug("closing the broker connection failed", exc_info=True)
        self._connection = None
        self._kombu_producer = None


def publish_pending(database, publisher: BrokerPublisher, clock,
                    limit: int = RELAY_BATCH_SIZE) -> int:
    """Publish up to ``limit`` unpublished outbox rows in order; return how many.

    Stops at the first failure, so events leave in the order they were written, and
    records the error on that row for operators.
    """
    if database.is_sqlite:
        return _publish_sqlite(database, publisher, clock, limit)
    with database.transaction() as session:
        # Row locks let several instances of one service relay without sending twice.
        query = _pending_query(limit, RELAY_INLINE_BODY_BYTES)
        rows = session.execute(query.with_for_update(skip_locked=True)).all()
        return _publish_rows(session, rows, publisher, clock)


def _publish_sqlite(database, publisher, clock, limit: int) -> int:
    # SQLite calls block the whole eventlet hub, so no transaction may stay open
    # while the publish waits for the broker: read, publish and mark separately.
    with database.reading() as session:
        rows = session.execute(_pending_query(limit)).all()
    published = 0
    for row in rows:
        with database.transaction() as session:
            if not _publish_rows(session, [row], publisher, clock):
                break
        published += 1
    return published


def _pending_query(limit: int, inline_bytes: int | None = None):
    """Unpublished rows in order; with ``inline_bytes``, larger bodies read as NULL.

    PostgreSQL's ``octet_length`` of a stored text needs no decompression.
    """
    body = outbox.c.body
    if inline_bytes is not None:
        body = case((func.octet_length(outbox.c.body) <= inline_bytes, outbox.c.body),
                    else_=null()).label("body")
    return (select(outbox.c.position, outbox.c.event_id, body)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.position).limit(limit))


def _publish_rows(session, rows, publisher, clock) -> int:
    published = []
    for row in rows:
        body = row.body
        if body is None:  # a large body, left out of the pending query
            body = session.execute(select(outbox.c.body).where(
                outbox.c.position == row.position)).scalar_one()
        try:
            publisher.publish(json.loads(body))
        except Exception as error:  # noqa: BLE001 - any broker failure is retried later
            publisher.close()
            session.execute(update(outbox).where(outbox.c.position == row.position)
                            .values(attempts=outbox.c.attempts + 1,
                                    last_error=f"{type(error).__name__}: {error}"))
            log.warning("publishing event failed event_id=%s error=%s",
                        row.event_id, error)
            break
        crash_point("relay_after_publish", publisher.producer)
        published.append(row.position)
    if published:
        # One statement marks the pass's events; they commit together in any case.
        session.execute(update(outbox).where(outbox.c.position.in_(published))
                        .values(published_at=clock.now(),
                                attempts=outbox.c.attempts + 1))
    return len(published)


def count_pending(database) -> int:
    with database.reading() as session:
        return session.execute(select(func.count()).select_from(outbox).where(
            outbox.c.published_at.is_(None))).scalar_one()
