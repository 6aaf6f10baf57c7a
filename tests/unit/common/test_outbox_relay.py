"""The outbox relay's passes: no empty pass after each one, and no commit missed."""

import eventlet
import pytest

from aixin import nameko_kit
from aixin.outbox import RELAY_BATCH_SIZE


class Publisher:
    producer = "test"

    def close(self):
        pass


class Passes:
    """Stands in for ``publish_pending``: each call takes one planned outcome."""

    def __init__(self, relay_box, plan):
        self.relay_box = relay_box
        self.plan = list(plan)
        self.calls = 0

    def __call__(self, database, publisher, clock):
        self.calls += 1
        outcome = self.plan.pop(0) if self.plan else 0
        if callable(outcome):
            return outcome(self.relay_box[0])
        return outcome


def run_relay(monkeypatch, plan, seconds=0.3):
    box = []
    passes = Passes(box, plan)
    monkeypatch.setattr(nameko_kit, "publish_pending", passes)
    relay = nameko_kit.OutboxRelayThread(None, Publisher(), None)
    box.append(relay)
    thread = eventlet.spawn(relay.run)
    eventlet.sleep(seconds)
    relay.stop()
    thread.wait()
    return passes.calls


def test_pass_that_was_not_full_is_not_followed_by_an_empty_one(monkeypatch):
    # One pass at start; the next comes only from the 0.5 s idle timer.
    assert run_relay(monkeypatch, [3]) == 1


def test_full_pass_is_followed_at_once(monkeypatch):
    assert run_relay(monkeypatch, [RELAY_BATCH_SIZE, RELAY_BATCH_SIZE, 5]) == 3


def test_commit_during_a_pass_wakes_the_next(monkeypatch):
    def commit_meanwhile(relay):
        relay.wake()  # a transaction with outbox rows committed during this pass
        return 1

    # The wake-up during the first pass brings a second pass well before the timer.
    assert run_relay(monkeypatch, [commit_meanwhile, 1], seconds=0.2) == 2


def test_failed_pass_backs_off_despite_wake_ups(monkeypatch):
    def fail_after_commit(relay):
        relay.wake()
        raise ConnectionError("broker gone")

    # After the failure the relay waits its back-off (1 s) before trying again.
    assert run_relay(monkeypatch, [fail_after_commit], seconds=0.4) == 1


@pytest.mark.parametrize("published", [0, 1])
def test_stop_ends_the_relay(monkeypatch, published):
    assert run_relay(monkeypatch, [published], seconds=0.05) == 1


def pass_times(monkeypatch, first_pass_publishes: int) -> list[float]:
    """Start the relay, wake it 50 ms after its first pass, return the pass times."""
    import time

    times = []
    relay_box = []

    def publish_pending(database, publisher, clock):
        times.append(time.monotonic())
        return first_pass_publishes if len(times) == 1 else 0

    monkeypatch.setattr(nameko_kit, "publish_pending", publish_pending)
    monkeypatch.setattr(nameko_kit, "RELAY_GATHER_S", 0.3)
    relay = nameko_kit.OutboxRelayThread(None, Publisher(), None)
    relay_box.append(relay)
    thread = eventlet.spawn(relay.run)
    eventlet.sleep(0.05)
    relay.wake()
    eventlet.sleep(0.45)
    relay.stop()
    thread.wait()
    return times


def test_commit_after_a_quiet_pass_is_published_at_once(monkeypatch):
    times = pass_times(monkeypatch, first_pass_publishes=0)
    assert len(times) >= 2
    assert times[1] - times[0] < 0.2


def test_commits_soon_after_a_busy_pass_gather(monkeypatch):
    # Woken 50 ms after a pass that published (a burst): the relay waits its gathering
    # time (0.3 s here) before the next pass.
    times = pass_times(monkeypatch, first_pass_publishes=3)
    assert len(times) >= 2
    assert times[1] - times[0] >= 0.3
