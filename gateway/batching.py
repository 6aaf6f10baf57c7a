"""Group commit for redemptions: concurrent requests share one RPC to the service.

Every RPC costs a publish with a publisher confirm, a reply and a worker on each side,
which at a busy hour costs more CPU than the redemption itself. ``CallBatcher`` lets
at most ``max_in_flight`` calls run at once. A request that arrives while a call slot
is free is sent at once, alone, so a quiet gateway adds no delay. Requests that arrive
while every slot is busy wait, and the next free slot sends up to ``max_batch`` of
them in one call. Batches therefore grow with the load, and no timer delays a
request.

Each request still gets its own outcome: the service redeems each item of a batch as
it would redeem it alone, with its own idempotency key, and returns one outcome per
item.
"""

import collections

from eventlet.queue import LightQueue
from nameko.exceptions import RemoteError
from nameko.extensions import DependencyProvider

from aixin.errors import error_from_data
from gateway.settings import number_setting

DEFAULT_MAX_BATCH = 32
DEFAULT_MAX_IN_FLIGHT = 2


class UpstreamTimeout(Exception):
    """The services did not respond to a request before its deadline."""


class _Pending:
    """One request waiting in a batcher, with its outcome once the batch returns."""

    __slots__ = ("item", "sent", "done", "abandoned", "outcome", "error", "signals")

    def __init__(self, item):
        self.item = item
        self.sent = False  # in a batch that was sent or is being sent
        self.done = False
        self.abandoned = False  # its request no longer waits for the outcome
        self.outcome = None
        self.error = None
        # "slot" when a call slot is free, "done" when the outcome is set.
        self.signals = LightQueue()

    def finish(self, outcome=None, error=None) -> None:
        self.outcome = outcome
        self.error = error
        self.done = True
        self.signals.put("done")


class CallBatcher:
    """A batcher of calls through the caller's ``send``, one per gateway process.

    ``send(items)`` must return one outcome per item, in order. Within one process all
    greenthreads share the batcher, and eventlet switches only inside ``send`` and
    while a request waits, so the bookkeeping needs no lock. ``sender_errors`` are
    the exception types that concern only the request that sends a batch, such as
    its deadline.
    """

    def __init__(self, max_batch: int = DEFAULT_MAX_BATCH,
                 max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
                 sender_errors: tuple = ()):
        if max_batch < 1 or max_in_flight < 1:
            raise ValueError(f"max_batch ({max_batch}) and max_in_flight "
                             f"({max_in_flight}) must be at least 1")
        self.max_batch = max_batch
        self.max_in_flight = max_in_flight
        self.sender_errors = sender_errors
        self._waiting = collections.deque()
        self._in_flight = 0

    def call(self, item, send):
        """Return the outcome of ``item``, sent alone or in a batch of waiting items.

        The request that sends a batch puts its own item first. An exception raised
        by ``send``, such as an unreachable broker, reaches every request of the
        batch. A sender error, or the sender's greenthread being killed, reaches
        only the sender. The other requests of that batch then go back to the front
        of the queue and are sent again. That is safe because each request carries
        its own idempotency key.
        """
        pending = _Pending(item)
        self._waiting.append(pending)
        try:
            while not pending.done:
                if not pending.sent and self._in_flight < self.max_in_flight:
                    self._send_batch(pending, send)
                elif pending.signals.get() == "slot" and pending.sent:
                    # Another batch took this item: pass the free slot on.
                    self._wake_next()
        finally:
            if not pending.done:  # this request failed, timed out or was killed
                pending.abandoned = True
                if not pending.sent:
                    self._waiting.remove(pending)
                    self._wake_next()
        if pending.error is not None:
            raise pending.error
        return pending.outcome

    def _send_batch(self, sender: _Pending, send) -> None:
        self._waiting.remove(sender)
        batch = [sender]
        while self._waiting and len(batch) < self.max_batch:
            batch.append(self._waiting.popleft())
        for pending in batch:
            pending.sent = True
        self._in_flight += 1
        try:
            outcomes = send([pending.item for pending in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError(f"the service returned {len(outcomes)} outcomes "
                                   f"for a batch of {len(batch)} items")
        except BaseException as error:
            if isinstance(error, self.sender_errors) or not isinstance(error, Exception):
                for pending in reversed(batch[1:]):
                    if not pending.abandoned:
                        pending.sent = False
                        self._waiting.appendleft(pending)
            else:
                for pending in batch[1:]:
                    pending.finish(error=error)
            raise
        finally:
            self._in_flight -= 1
            self._wake_next()
        for pending, outcome in zip(batch, outcomes):
            pending.finish(outcome=outcome)

    def _wake_next(self) -> None:
        if self._waiting and self._in_flight < self.max_in_flight:
            self._waiting[0].signals.put("slot")


class RedemptionBatches(DependencyProvider):
    """The gateway's batcher of ``redemption.redeem_batch`` calls.

    ``GATEWAY_REDEMPTION_BATCH`` is the maximum number of redemptions in one call
    (1 sends each alone), ``GATEWAY_REDEMPTION_IN_FLIGHT`` the number of calls that
    may run at once.
    """

    def setup(self):
        config = self.container.config
        self.batcher = CallBatcher(
            number_setting(config, "GATEWAY_REDEMPTION_BATCH", DEFAULT_MAX_BATCH,
                           int, minimum=1),
            number_setting(config, "GATEWAY_REDEMPTION_IN_FLIGHT",
                           DEFAULT_MAX_IN_FLIGHT, int, minimum=1),
            sender_errors=(UpstreamTimeout,))

    def get_dependency(self, worker_ctx):
        return Redeemer(self.batcher)


class Redeemer:
    """Redeems through the batcher with the calling worker's RPC proxy."""

    def __init__(self, batcher: CallBatcher):
        self.batcher = batcher

    def redeem(self, redemption_proxy, actor: dict, campaign_id: str, payload: dict,
               idempotency_key: str) -> dict:
        """Return the redemption, or raise its DomainError, like ``redemption.redeem``."""
        outcome = self.batcher.call(
            {"actor": actor, "campaign_id": campaign_id, "payload": payload,
             "idempotency_key": idempotency_key},
            redemption_proxy.redeem_batch)
        if "result" in outcome:
            return outcome["result"]
        if "error" in outcome:
            raise error_from_data(outcome["error"])
        raise RemoteError(outcome.get("failure"), "redemption failed in the redemption service: see its log")

