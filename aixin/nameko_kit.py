"""nameko adapters: the database with its outbox relay, the clock, event consumers.

Services import their nameko plumbing from here, so the domain code never does.
"""

import functools
import logging
import os

import eventlet
from eventlet.event import Event
from nameko.events import event_handler
from nameko.exceptions import registry
from nameko.extensions import DependencyProvider
from nameko.rpc import rpc

from aixin import consumer, events
from aixin.clock import clock_from_spec
from aixin.db import Database, database_url, migrate
from aixin.errors import ERROR_CLASSES
from aixin.outbox import BrokerPublisher, count_pending, publish_pending

log = logging.getLogger(__name__)

RELAY_IDLE_INTERVAL_S = 0.5
RELAY_MAX_BACKOFF_S = 10.0

for _error_class in ERROR_CLASSES:
    # Lets an RPC caller get the same DomainError subclass back instead of RemoteError.
    registry[f"{_error_class.__module__}.{_error_class.__name__}"] = _error_class


class ServiceDatabase:
    """What a worker sees: transactions on the service database that wake the relay."""

    def __init__(self, database: Database, relay: "OutboxRelayThread | None"):
        self.database = database
        self._relay = relay
        self.is_sqlite = database.is_sqlite

    def transaction(self):
        return _WakingTransaction(self.database, self._relay)

    def reading(self):
        return self.database.reading()


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
            try:
                while publish_pending(self.database, self.publisher, self.clock):
                    pass
                backoff = RELAY_IDLE_INTERVAL_S
            except Exception as error:  # noqa: BLE001 - the relay must outlive failures
                self.publisher.close()
                backoff = min(backoff * 2, RELAY_MAX_BACKOFF_S)
                log.warning("outbox relay failed, retrying in %.1fs producer=%s error=%s",
                            backoff, self.publisher.producer, error)
            self._wakeup = Event()
            with eventlet.Timeout(backoff, False):
                self._wakeup.wait()
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


def consume(event_type: str):
    """Decorate ``on_<event_type>(self, session, event)`` as an idempotent handler.

    The service must have ``db`` (Storage) and ``clock`` (CampaignClock) attributes.
    """
    spec = events.spec_of(event_type)

    def decorate(apply):
        expected = events.handler_name(event_type)
        if apply.__name__ != expected:
            raise TypeError(f"handler for {event_type} must be named {expected}")

        @event_handler(spec.producer, event_type, requeue_on_error=True)
        @functools.wraps(apply)
        def handler(self, body):
            handler_id = f"{self.name}.{expected}"
            try:
                return consumer.apply_event(
                    self.db.database, self.clock, handler_id, event_type, body,
                    lambda session, event: apply(self, session, event))
            except consumer.RetryLater:
                eventlet.sleep(1.0)
                raise

        return handler

    return decorate


class HealthCheck:
    """A mixin giving a service the ``health`` RPC that readiness checks call."""

    @rpc
    def health(self):
        """Return ``ok`` and how many events still wait in this service's outbox."""
        return {"service": self.name, "status": "ok",
                "pending_outbox": count_pending(self.db.database)}
