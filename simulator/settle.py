"""Waiting until every event of a step has been delivered and applied.

Services talk through events, so after a step the simulator waits until every outbox is
empty and every consumer queue of the catalogue is drained, several times in a row,
before the next actor reads what the step changed.
"""

import logging
import time

import requests
from kombu import Connection

from aixin import events

log = logging.getLogger(__name__)

QUIET_POLLS = 3
POLL_INTERVAL_S = 0.15


def _queue_names() -> list[str]:
    return [events.queue_name(event_type, consumer)
            for event_type, spec in events.CATALOGUE.items()
            for consumer in spec.consumers]


def _pending_outbox(gateway_url: str) -> int:
    body = requests.get(f"{gateway_url}/health", timeout=30).json()
    return sum(status.get("pending_outbox", 0) for status in body["services"].values())


def _ready_messages(connection) -> int:
    total = 0
    channel = connection.channel()
    try:
        for name in _queue_names():
            try:
                _, count, _ = channel.queue_declare(queue=name, passive=True)
            except Exception:  # noqa: BLE001 - a queue not declared yet holds nothing
                channel = connection.channel()
                continue
            total += count
    finally:
        channel.close()
    return total


def wait_until_settled(gateway_url: str, amqp_uri: str, timeout_s: float = 300.0) -> None:
    deadline = time.monotonic() + timeout_s
    quiet = 0
    with Connection(amqp_uri) as connection:
        while time.monotonic() < deadline:
            busy = _pending_outbox(gateway_url) + _ready_messages(connection)
            quiet = quiet + 1 if busy == 0 else 0
            if quiet >= QUIET_POLLS:
                return
            time.sleep(POLL_INTERVAL_S)
    raise TimeoutError(f"events still in flight after {timeout_s:.0f} s")
