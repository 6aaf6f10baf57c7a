"""CallBatcher: concurrent requests share calls, each gets its own outcome."""

from types import SimpleNamespace

import eventlet
import pytest
from eventlet.event import Event
from nameko.exceptions import RemoteError

from aixin.errors import Conflict, DomainError
from gateway.batching import CallBatcher, Redeemer


class FakeService:
    """Records each batch and keeps it waiting until ``release`` is called."""

    def __init__(self):
        self.batches = []
        self.gates = []

    def send(self, items):
        gate = Event()
        self.batches.append(list(items))
        self.gates.append(gate)
        failure = gate.wait()
        if failure is not None:
            raise failure
        return [f"done {item}" for item in items]

    def release(self, index, failure=None):
        self.gates[index].send(failure)


def start(batcher, service, item):
    return eventlet.spawn(batcher.call, item, service.send)


class DeadlinePassed(Exception):
    """A deadline that, like the gateway's UpstreamTimeout, is an Exception."""


def start_with_deadline(batcher, service, item, seconds: float):
    """Start a request whose deadline passes after ``seconds``."""
    def call_before_deadline():
        with eventlet.Timeout(seconds, DeadlinePassed()):
            return batcher.call(item, service.send)

    return eventlet.spawn(call_before_deadline)


def settle():
    for _ in range(5):
        eventlet.sleep(0)


def test_quiet_request_goes_alone_at_once():
    service = FakeService()
    batcher = CallBatcher(max_batch=8, max_in_flight=1)
    request = start(batcher, service, "a")
    settle()
    assert service.batches == [["a"]]
    service.release(0)
    assert request.wait() == "done a"


def test_waiting_requests_share_the_next_call():
    service = FakeService()
    batcher = CallBatcher(max_batch=8, max_in_flight=1)
    first = start(batcher, service, "a")
    settle()
    waiting = [start(batcher, service, item) for item in "bcd"]
    settle()
    assert service.batches == [["a"]]
    service.release(0)
    settle()
    assert service.batches == [["a"], ["b", "c", "d"]]
    service.release(1)
    assert first.wait() == "done a"
    assert [request.wait() for request in waiting] == ["done b", "done c", "done d"]


def test_batch_size_stops_at_max_batch():
    service = FakeService()
    batcher = CallBatcher(max_batch=2, max_in_flight=1)
    requests = [start(batcher, service, item) for item in "abcde"]
    settle()
    for index in range(3):
        service.release(index)
        settle()
    assert service.batches == [["a"], ["b", "c"], ["d", "e"]]
    assert [request.wait() for request in requests] == [
        f"done {item}" for item in "abcde"]


def test_calls_in_flight_never_exceed_the_limit():
    service = FakeService()
    batcher = CallBatcher(max_batch=8, max_in_flight=2)
    requests = [start(batcher, service, item) for item in "abcd"]
    settle()
    assert service.batches == [["a"], ["b"]]
    service.release(1)
    settle()
    assert service.batches == [["a"], ["b"], ["c", "d"]]
    service.release(0)
    service.release(2)
    assert [request.wait() for request in requests] == [
        f"done {item}" for item in "abcd"]


def test_failed_call_reaches_its_whole_batch():
    service = FakeService()
    batcher = CallBatcher(max_batch=8, max_in_flight=1)
    first = start(batcher, service, "a")
    settle()
    waiting = [start(batcher, service, item) for item in "bc"]
    settle()
    service.release(0)
    settle()
    assert service.batches[1] == ["b", "c"]
    service.release(1, ConnectionResetError("broker gone"))
    assert first.wait() == "done a"
    for request in waiting:
        with pytest.raises(ConnectionResetError):
            request.wait()
    later = start(batcher, service, "d")
    settle()
    assert service.batches[2] == ["d"]
    service.release(2)
    assert later.wait() == "done d"


def test_sender_deadline_resends_the_others():
    service = FakeService()
    batcher = CallBatcher(max_batch=8, max_in_flight=1, sender_errors=(DeadlinePassed,))
    first = start(batcher, service, "a")
    settle()

    sender = start_with_deadline(batcher, service, "b", 0.2)
    settle()
    patient = start(batcher, service, "c")
    settle()
    service.release(0)
    settle()
    assert service.batches == [["a"], ["b", "c"]]
    with pytest.raises(DeadlinePassed):
        sender.wait()
    settle()
    assert service.batches[2] == ["c"]
    service.release(2)
    assert first.wait() == "done a"
    assert patient.wait() == "done c"


def test_sender_puts_its_own_item_first():
    service = FakeService()
    batcher = CallBatcher(max_batch=1, max_in_flight=1)

    def first_then_next():
        batcher.call("a", service.send)
        # The same till's next request arrives as the slot frees, before the
        # waiting request that the free slot woke runs.
        return batcher.call("d", service.send)

    till = eventlet.spawn(first_then_next)
    settle()
    waiting = [start(batcher, service, item) for item in "bc"]
    settle()
    service.release(0)
    settle()
    assert service.batches[1] == ["d"]
    service.release(1, ConnectionResetError("broker gone"))
    with pytest.raises(ConnectionResetError):
        till.wait()
    settle()
    assert service.batches[2] == ["b"]
    service.release(2)
    settle()
    assert service.batches[3] == ["c"]
    service.release(3)
    assert [request.wait() for request in waiting] == ["done b", "done c"]


def test_abandoned_request_is_not_sent_again():
    service = FakeService()
    batcher = CallBatcher(max_batch=8, max_in_flight=1,
                          sender_errors=(ConnectionResetError,))
    first = start(batcher, service, "a")
    settle()

    sender = start(batcher, service, "b")
    gave_up = start_with_deadline(batcher, service, "c", 0.05)
    settle()
    service.release(0)
    settle()
    assert service.batches[1] == ["b", "c"]
    with pytest.raises(DeadlinePassed):
        gave_up.wait()
    service.release(1, ConnectionResetError("broker gone"))
    with pytest.raises(ConnectionResetError):
        sender.wait()
    later = start(batcher, service, "d")
    settle()
    assert service.batches[2] == ["d"]
    service.release(2)
    assert first.wait() == "done a"
    assert later.wait() == "done d"


def test_request_timing_out_while_waiting_leaves_the_queue():
    service = FakeService()
    batcher = CallBatcher(max_batch=8, max_in_flight=1)
    first = start(batcher, service, "a")
    settle()

    gave_up = start_with_deadline(batcher, service, "b", 0.01)
    with pytest.raises(DeadlinePassed):
        gave_up.wait()
    patient = start(batcher, service, "c")
    settle()
    service.release(0)
    settle()
    assert service.batches == [["a"], ["c"]]
    service.release(1)
    assert first.wait() == "done a"
    assert patient.wait() == "done c"


def test_wrong_number_of_outcomes_fails_the_batch():
    batcher = CallBatcher(max_batch=8, max_in_flight=1)
    with pytest.raises(RuntimeError, match="returned 0 outcomes for a batch of 1 items"):
        batcher.call("a", lambda items: [])


@pytest.mark.parametrize("outcome, expected", [
    ({"error": {"class": "Conflict", "code": "voucher_already_redeemed",
                "message": "该券已核销。", "details": {"serial": "S1"}}}, Conflict),
    ({"error": {"class": "Unknown", "code": "odd", "message": "未知。"}}, DomainError),
    ({"failure": "ValueError"}, RemoteError),
])
def test_redeemer_raises_each_outcome_error(outcome, expected):
    redeemer = Redeemer(CallBatcher())
    proxy = SimpleNamespace(redeem_batch=lambda items: [outcome for _ in items])
    with pytest.raises(expected) as raised:
        redeemer.redeem(proxy, {"role": "merchant"}, "c1", {}, "k1")
    if expected is not RemoteError:
        assert raised.value.code == outcome["error"]["code"]
        assert raised.value.message == outcome["error"]["message"]


def test_redeemer_returns_the_result():
    redeemer = Redeemer(CallBatcher())
    proxy = SimpleNamespace(redeem_batch=lambda items: [
        {"result": {"serial": item["payload"]["serial"]}} for item in items])
    assert redeemer.redeem(proxy, {"role": "merchant"}, "c1", {"serial": "S1"},
                           "k1") == {"serial": "S1"}
