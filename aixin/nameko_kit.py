"""nameko adapters: the database with its outbox relay, the clock, event consumers.

Services import their nameko plumbing from here, so the domain code never does.
"""

import functools
import logging
import os
import time

import eventlet
from amqp.exceptions import ConnectionError as AmqpConnectionError
from eventlet.event import Event
from kombu.exceptions import OperationalError as KombuOperationalError
from nameko.constants import HEADER_PREFIX
from nameko.events import EventHandler
from nameko.messaging import QueueConsumer
from nameko.exceptions import registry
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc, RpcConsumer, rpc

from aixin import consumer, events
from aixin.fault_hooks import crash_point
from aixin.clock import clock_from_spec
from aixin.db import Database, database_url, migrate
from aixin.errors import ERROR_CLASSES, DomainError, Forbidden
from aixin.outbox import (RELAY_BATCH_SIZE, BrokerPublisher, count_pending,
                          publish_pending)

log = logging.getLogger(__name__)

RELAY_IDLE_INTERVAL_S = 0.5
# Woken this soon after a pass that published, the relay waits this long before the
# next pass, so that under load one pass (one transaction) publishes the events of
# several commits. A commit after a quiet spell is published at once.
RELAY_GATHER_S = 0.01
RELAY_MAX_BACKOFF_S = 10.0

# Context key of an RPC request's deadline, in seconds since the epoch (wall time, not
# the campaign clock). nameko sends it as the message header ``nameko.aixin_deadline``.
RPC_DEADLINE_KEY = "aixin_deadline"
# Errors of a call to a service while RabbitMQ is down or restarting.
BROKER_ERRORS = (KombuOperationalError, AmqpConnectionError, ConnectionError)
# On a connection the broker closed, py-amqp also raises a plain OSError.
LOST_CONNECTION_ERRORS = (*BROKER_ERRORS, OSError)

for _error_class in ERROR_CLASSES:
    # Lets an RPC caller get the same DomainError subclass back instead of RemoteError.
    registry[f"{_error_class.__module__}.{_error_class.__name__}"] = _error_class


def rpc_deadline_passed(headers: dict, now: float | None = None) -> float | None:
    """Return by how many seconds the request's deadline has passed, or None."""
    deadline = (headers or {}).get(f"{HEADER_PREFIX}.{RPC_DEADLINE_KEY}")
    if deadline is None:
        return None
    try:
        late_by = (time.time() if now is None else now) - float(deadline)
    except (TypeError, ValueError):
        log.warning("ignored an invalid RPC deadline header value=%r", deadline)
        return None
    return late_by if late_by > 0 else None


_run_rpc_request = Rpc.handle_message


def _drop_rpc_request_past_deadline(entrypoint, body, message):
    """Acknowledge and drop an RPC request whose caller's deadline has passed.

    RPC requests wait in a durable queue with no expiry, so a request whose caller gave
    up can arrive minutes later, for example after the service restarted. Its caller
    gets no reply and retries with the same idempotency key if it still wants the
    change. Requests without a deadline run as before.
    """
    late_by = rpc_deadline_passed(message.headers)
    if late_by is None:
        return _run_rpc_request(entrypoint, body, message)
    correlation_id = message.headers.get(f"{HEADER_PREFIX}.correlation_id")
    log.warning("dropped RPC request past its deadline service=%s method=%s "
                "late_by_s=%.1f correlation_id=%s", entrypoint.container.service_name,
                entrypoint.method_name, late_by, correlation_id)
    entrypoint.rpc_consumer.queue_consumer.ack_message(message)
    return None


# Every service imports this module for its Storage, so every @rpc entrypoint of this
# code base checks deadlines. nameko 2.14 has no hook for this besides handle_message.
Rpc.handle_message = _drop_rpc_request_past_deadline


class RejectionInOneLine(logging.Filter):
    """Rewrite nameko's log record of a DomainError into one line without traceback.

    nameko 2.14.1 logs every exception an entrypoint raises with its traceback
    (``ServiceContainer._run_worker``), at WARNING for ``expected_exceptions`` and at
    ERROR otherwise. A DomainError is a rejection the caller gets back, such as an
    invalid voucher at a till, so it becomes one INFO line with its code (WARNING for
    Forbidden). Every other exception keeps nameko's record and traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, DomainError):
            return True
        # nameko's arguments are (worker_ctx, exception).
        worker_ctx = record.args[0] if isinstance(record.args, tuple) else None
        entrypoint = getattr(worker_ctx, "entrypoint", None)
        data = getattr(worker_ctx, "data", None) or {}
        record.levelno = logging.WARNING if isinstance(error, Forbidden) else logging.INFO
        record.levelname = logging.getLevelName(record.levelno)
        record.msg = "rejected %s.%s code=%s correlation_id=%s message=%s"
        record.args = (getattr(worker_ctx, "service_name", "?"),
                       getattr(entrypoint, "method_name", "?"), error.code,
                       data.get("correlation_id"), error.message)
        record.exc_info = None
        record.exc_text = None
        return True


# Every service imports this module, so the filter covers each of their entrypoints.
logging.getLogger("nameko.containers").addFilter(RejectionInOneLine())


def _settle_message(message, settle, action: str) -> None:
    """Acknowledge or requeue a message, or log and skip it if its connection is gone.

    RabbitMQ returns every unacknowledged message of a closed connection to its queue,
    so a message that cannot be settled is delivered again, and the idempotent
    consumers and idempotency keys make the second delivery harmless.
    """
    if not message.channel.connection:
        return
    try:
        settle()
    except LOST_CONNECTION_ERRORS as error:
        log.warning("could not %s a message because its broker connection is lost; "
                    "RabbitMQ will deliver it again routing_key=%s delivery_tag=%s "
                    "error=%s", action, message.delivery_info.get("routing_key"),
                    message.delivery_tag, error)


def _ack_message(queue_consumer, message):
    _settle_message(message, message.ack, "acknowledge")


def _requeue_message(queue_consumer, message):
    _settle_message(message, message.requeue, "requeue")


# nameko 2.14.1 catches only amqp's ConnectionError when it acknowledges or requeues a
# message. A worker that finishes after RabbitMQ closed its connection (for example a
# process resumed after SIGSTOP past the heartbeat, with kombu 5.7 and py-amqp 5)
# gets the socket's OSError (ECONNRESET, EPIPE) instead. That error ends the worker
# greenthread, and nameko kills the whole service container for it, so the service
# stops consuming. Patching the class covers the event handlers' queue consumer and
# the RPC entrypoints' consumer alike.
QueueConsumer.ack_message = _ack_message
QueueConsumer.requeue_message = _requeue_message


_send_rpc_reply = RpcConsumer.handle_result


def _send_rpc_reply_or_requeue(rpc_consumer, message, result, exc_info):
    """Send an RPC reply; if RabbitMQ is unreachable, put the request back instead.

    nameko lets a failed reply escape the worker greenthread, and the container kills
    the whole service for it: a broker restart while any RPC was finishing stopped the
    service for good. The request goes back to its queue instead and runs again when
    the broker is back. State changes carry idempotency keys, so the second run returns
    the first outcome, and a request past its caller's deadline is dropped.
    """
    try:
        return _send_rpc_reply(rpc_consumer, message, result, exc_info)
    except LOST_CONNECTION_ERRORS as error:
        log.warning("could not send an RPC reply because RabbitMQ is unreachable; the "
                    "request goes back to its queue routing_key=%s error=%s",
                    message.delivery_info.get("routing_key"), error)
        rpc_consumer.queue_consumer.requeue_message(message)
        return result, exc_info


RpcConsumer.handle_result = _send_rpc_reply_or_requeue


class ServiceDatabase:
    """The service database as a worker uses it: transactions that wake the relay."""

    def __init__(self, database: Database, relay: "OutboxRelayThread | None"):
        self.database = database
        self._relay = relay
        self.is_sqlite = database.is_sqlite

    def transaction(self):
        return _WakingTransaction(self.database, self._relay)

    def reading(self):
        return self.database.reading()

    def events_committed(self) -> None:
        """Wake the relay after a commit outside ``transaction()`` wrote outbox rows."""
        if self._relay:
            crash_point("producer_after_commit", self._relay.publisher.producer)
            self._relay.wake()


class _WakingTransaction:
    def __init__(self, database, relay):
        self._context = database.transaction()
        self._relay = relay
        self._session = None

    def __enter__(self):
        self._session = self._context.__enter__()
        return self._session

    def __exit__(self, *exc_info):
        result = self._context.__exit__(*exc_info)
        if exc_info[0] is None and self._relay and self._session.info.get("outbox_written"):
            crash_point("producer_after_commit", self._relay.publisher.producer)
            self._relay.wake()
        return result


class OutboxRelayThread:
    """A greenthread that publishes the outbox as soon as it is woken, or every 0.5 s."""

    def __init__(self, database: Database, publisher: BrokerPublisher, clock):
        self.database = database
        self.publisher = publisher
        self.clock = clock
        self._wakeup = Event()
        self._running = True

    def wake(self) -> None:
        if not self._wakeup.ready():
            self._wakeup.send(True)

    def stop(self) -> None:
        self._running = False
        self.wake()

    def run(self) -> None:
        backoff = RELAY_IDLE_INTERVAL_S
        while self._running:
            # A new event before the pass reads the outbox: a commit during the pass
            # wakes the next pass, so a pass that was not full needs no empty check.
            self._wakeup = Event()
            try:
                published = publish_pending(self.database, self.publisher, self.clock)
                while published >= RELAY_BATCH_SIZE:
                    published = publish_pending(self.database, self.publisher,
                                                self.clock)
                backoff = RELAY_IDLE_INTERVAL_S
            except Exception as error:  # noqa: BLE001 - the relay must outlive failures
                self.publisher.close()
                backoff = min(backoff * 2, RELAY_MAX_BACKOFF_S)
                log.warning("outbox relay failed, retrying in %.1fs producer=%s error=%s",
                            backoff, self.publisher.producer, error)
                self._wakeup = Event()  # commits during the failed pass: back off
                published = 0
            passed_at = time.monotonic()
            with eventlet.Timeout(backoff, False):
                self._wakeup.wait()
                if published and time.monotonic() - passed_at < RELAY_GATHER_S:
                    eventlet.sleep(RELAY_GATHER_S)  # a burst: let its commits gather
        self.publisher.close()


class Storage(DependencyProvider):
    """The service database: migrated at start, with the outbox relay running."""

    def __init__(self, service: str, relay: bool = True, create_schema=None):
        self.service = service
        self.relay_enabled = relay
        # Tests of the plumbing pass a function that creates tables without alembic.
        self.create_schema = create_schema
        self.database = None
        self.relay = None

    def setup(self):
        config = self.container.config
        url = database_url(self.service, config.get(f"{self.service.upper()}_DATABASE_URL"))
        self.database = Database(url)
        if self.create_schema:
            self.create_schema(self.database.engine)
        elif config.get("AIXIN_MIGRATE", True) not in (False, "false", "0"):
            migrate(self.service, url)
        clock = clock_from_spec(config.get("AIXIN_CLOCK") or os.environ.get("AIXIN_CLOCK"))
        if self.relay_enabled and events.events_produced_by(self.service):
            publisher = BrokerPublisher(config["AMQP_URI"], self.service)
            self.relay = OutboxRelayThread(self.database, publisher, clock)

    def start(self):
        if self.relay:
            self.container.spawn_managed_thread(self.relay.run)

    def stop(self):
        if self.relay:
            self.relay.stop()
        self.database.dispose()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return ServiceDatabase(self.database, self.relay)


class CampaignClock(DependencyProvider):
    """The campaign clock named by the ``AIXIN_CLOCK`` setting."""

    def setup(self):
        spec = self.container.config.get("AIXIN_CLOCK") or os.environ.get("AIXIN_CLOCK")
        self.clock = clock_from_spec(spec)

    def get_dependency(self, worker_ctx):
        return self.clock


class ParkingQueueConsumer(QueueConsumer):
    """nameko's queue consumer, but a body kombu cannot decode is parked, not fatal.

    kombu decodes each message before nameko sees it. Bad JSON or a content type
    other than JSON raises inside kombu's receive callback, which by default ends the
    consumer thread and with it the service, and the unacknowledged message comes
    back on every restart. Here the message goes to its handler as an
    ``UndecodableBody``, which the handler parks and acknowledges.
    """

    def get_consumers(self, consumer_cls, channel):
        consumers = super().get_consumers(consumer_cls, channel)
        for provider, kombu_consumer in self._consumers.items():
            kombu_consumer.on_decode_error = functools.partial(
                self._on_decode_error, provider)
        return consumers

    def _on_decode_error(self, provider, message, error):
        raw = message.body
        text = raw.decode("utf-8", "backslashreplace") if isinstance(raw, bytes) \
            else str(raw)
        reason = (f"undecodable message (content type {message.content_type!r}): "
                  f"{type(error).__name__}: {error}")
        log.error("undecodable message on %s: %s", provider.queue.name, reason)
        self.handle_message(provider, consumer.UndecodableBody(text, reason), message)


class ParkingEventHandler(EventHandler):
    queue_consumer = ParkingQueueConsumer()


def consume(event_type: str):
    """Decorate ``on_<event_type>(self, session, event)`` as an idempotent handler.

    The service must have ``db`` (Storage) and ``clock`` (CampaignClock) attributes.
    """
    spec = events.spec_of(event_type)

    def decorate(apply):
        expected = events.handler_name(event_type)
        if apply.__name__ != expected:
            raise TypeError(f"handler for {event_type} must be named {expected}")

        @ParkingEventHandler.decorator(spec.producer, event_type, requeue_on_error=True)
        @functools.wraps(apply)
        def handler(self, body):
            handler_id = f"{self.name}.{expected}"
            try:
                outcome = consumer.apply_event(
                    self.db.database, self.clock, handler_id, event_type, body,
                    lambda session, event: apply(self, session, event))
                if outcome == "applied":
                    # Test-only: the change is committed and the message not yet acked.
                    crash_point("consumer_after_commit", handler_id)
                return outcome
            except consumer.RetryLater:
                # Requeued messages come straight back: wait before letting go.
                eventlet.sleep(1.0)
                raise

        handler.consumed_event = (event_type, apply)
        return handler

    return decorate


class HealthCheck:
    """A mixin giving a service the ``health`` RPC that readiness checks call, and the
    operator's ``list_parked`` and ``replay_parked`` RPCs."""

    @rpc
    def health(self):
        """Return ``ok`` and how many events still wait in this service's outbox."""
        return {"service": self.name, "status": "ok",
                "pending_outbox": count_pending(self.db.database)}

    @rpc
    def list_parked(self, include_replayed: bool = False, limit: int = 200):
        """The messages this service's consumers parked, oldest first."""
        return consumer.list_parked(self.db.database, f"{self.name}.",
                                    include_replayed, min(int(limit), 1000))

    @rpc
    def replay_parked(self, parked_id: int):
        """Apply a parked message again through its handler; return the outcome."""
        appliers = {}
        for attribute in dir(type(self)):
            consumed = getattr(getattr(type(self), attribute, None), "consumed_event",
                               None)
            if consumed:
                event_type, apply = consumed
                appliers[f"{self.name}.{attribute}"] = (
                    event_type, functools.partial(self._apply_consumed, apply))
        return consumer.replay_parked(self.db.database, self.clock, int(parked_id),
                                      appliers)

    def _apply_consumed(self, apply, session, event):
        return apply(self, session, event)
