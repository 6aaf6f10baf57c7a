"""RabbitMQ stopped and started, and killed outright, while a campaign runs.

The broker is a node of the test's own (``private_rabbit``), never the machine's shared
one. The campaign keeps handing out and redeeming vouchers through both outages; its
client retries every failed state change with the same idempotency key.
"""

import logging
import time

import eventlet
import pytest
from nameko.containers import ServiceContainer
from nameko.rpc import rpc
from nameko.standalone.rpc import ClusterRpcProxy

import aixin.nameko_kit  # noqa: F401 - installs the reply and settle patches
from tests.faults.books import wait_for_balanced_books
from tests.faults.harness import FaultSystem, SmallCampaign, in_background, retrying, slow
from tests.faults.private_rabbit import PrivateRabbit

OUTAGE_S = 3
# How long the slow RPC below works before it replies: time to stop the broker.
SLOW_REPLY_S = 8


@pytest.fixture
def rabbit():
    node = PrivateRabbit()
    try:
        node.start()
        yield node
    finally:
        node.remove()


@pytest.fixture
def system_on_rabbit(rabbit, tmp_path):
    system = FaultSystem(tmp_path, rabbit.amqp_uri)
    try:
        system.start()
        yield system
    finally:
        system.stop()


def outage(rabbit, how: str):
    """Stop or kill the broker, keep it down for a moment, start it again."""
    def run():
        getattr(rabbit, how)()
        time.sleep(OUTAGE_S)
        rabbit.start()
    return in_background(run)


def run_through_outages(rabbit, campaign, outages: list[str], handouts: int,
                        redemptions: int) -> None:
    """Hand out, void and redeem while the broker goes down, every third operation.

    An outage starts in the background, so the next operations meet the broker down;
    the next outage waits until the previous one ended.
    """
    pending = list(outages)
    current = []

    def maybe_fail(done: int) -> None:
        if done % 3 or not pending:
            return
        if current:
            current.pop()()
        current.append(outage(rabbit, pending.pop(0)))

    campaign.hand_out(handouts, on_each=maybe_fail)
    campaign.void_one()
    campaign.redeem(redemptions, on_each=maybe_fail)
    for join in current:
        join()
    assert not pending, f"outages not run: {pending}; hand out or redeem more"


@pytest.mark.timeout(600)
def test_broker_stopped_and_killed(rabbit, system_on_rabbit):
    campaign = SmallCampaign(system_on_rabbit)
    campaign.set_up()
    failed_before = retrying.attempts_failed
    run_through_outages(rabbit, campaign, ["stop", "kill"],
                        handouts=6, redemptions=4)
    assert retrying.attempts_failed > failed_before, "no request met an outage"
    books = wait_for_balanced_books(system_on_rabbit.service_database_urls,
                                    system_on_rabbit.amqp_uri)
    assert books.figures["issuance_ever_issued"] == len(campaign.handed_out)
    assert books.figures["redemptions"] == len(campaign.redeemed)


@slow
@pytest.mark.timeout(1200)
def test_broker_outages_repeated(rabbit, system_on_rabbit):
    campaign = SmallCampaign(system_on_rabbit)
    campaign.set_up()
    run_through_outages(rabbit, campaign,
                        ["stop", "kill", "stop", "kill", "stop", "kill"],
                        handouts=16, redemptions=10)
    books = wait_for_balanced_books(system_on_rabbit.service_database_urls,
                                    system_on_rabbit.amqp_uri)
    assert books.figures["redemptions"] == len(campaign.redeemed)


class SlowEcho:
    """An RPC that works for a few seconds before replying; it counts its runs."""

    name = "slow_echo"
    runs = []

    @rpc
    def echo(self, value):
        SlowEcho.runs.append(value)
        eventlet.sleep(SLOW_REPLY_S)
        return value


@pytest.mark.timeout(300)
def test_reply_lost_to_broker_stop_keeps_the_service(rabbit, caplog):
    """A reply that cannot be sent puts the request back; the service stays up."""
    SlowEcho.runs.clear()
    caplog.set_level(logging.WARNING, logger="aixin.nameko_kit")
    container = ServiceContainer(SlowEcho, {"AMQP_URI": rabbit.amqp_uri})
    container.start()
    try:
        with ClusterRpcProxy({"AMQP_URI": rabbit.amqp_uri}) as proxy:
            proxy.slow_echo.echo.call_async("first")
            deadline = time.monotonic() + 30
            while not SlowEcho.runs and time.monotonic() < deadline:
                eventlet.sleep(0.1)
            assert SlowEcho.runs == ["first"]
            rabbit.stop()
        # The reply fails once its publisher has given up retrying; by default nameko
        # would kill the container then.
        deadline = time.monotonic() + 60
        while ("could not send an RPC reply" not in caplog.text
               and not container._died.ready() and time.monotonic() < deadline):
            eventlet.sleep(0.2)
        assert not container._died.ready(), "the service died with its reply"
        assert "could not send an RPC reply" in caplog.text
        rabbit.start()
        deadline = time.monotonic() + 60
        while len(SlowEcho.runs) < 2 and time.monotonic() < deadline:
            eventlet.sleep(0.2)
        assert SlowEcho.runs == ["first", "first"], "the request did not run again"
        with ClusterRpcProxy({"AMQP_URI": rabbit.amqp_uri}, timeout=60) as proxy:
            assert proxy.slow_echo.echo("second") == "second"
    finally:
        container.kill()
