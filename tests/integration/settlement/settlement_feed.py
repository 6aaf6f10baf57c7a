"""Publishing events as their producers' relays do, and waiting for their effect."""

import eventlet

from aixin import events
from aixin.outbox import BrokerPublisher, build_event
from settlement_events import at


def wait_for(predicate, timeout: float = 15.0):
    """Poll ``predicate`` until it returns a truthy value, and return that value."""
    with eventlet.Timeout(timeout):
        while True:
            value = predicate()
            if value:
                return value
            eventlet.sleep(0.1)


class EventFeed:
    """One BrokerPublisher per producer, publishing to a test's virtual host."""

    def __init__(self, amqp_uri: str):
        self.amqp_uri = amqp_uri
        self.publishers = {}

    def send(self, event_type: str, data: dict, repeat: int = 1) -> dict:
        """Publish one envelope ``repeat`` times, as redeliveries, and return it."""
        return self.resend(build_event(event_type, data, at(1, 10)), repeat)

    def resend(self, envelope: dict, repeat: int = 1) -> dict:
        producer = events.spec_of(envelope["type"]).producer
        if producer not in self.publishers:
            self.publishers[producer] = BrokerPublisher(self.amqp_uri, producer)
        for _ in range(repeat):
            self.publishers[producer].publish(envelope)
        return envelope

    def close(self) -> None:
        for publisher in self.publishers.values():
            publisher.close()
