"""RabbitMQ stopped and started, and killed outright, while a campaign runs.

The broker is a node of the test's own (``private_rabbit``), never the machine's shared
one. The campaign keeps handing out and redeeming vouchers through both outages; its
client retries every failed state change with the same idempotency key.
"""

import time

import pytest

from tests.faults.books import wait_for_balanced_books
from tests.faults.harness import FaultSystem, SmallCampaign, in_background, retrying, slow
from tests.faults.private_rabbit import PrivateRabbit

OUTAGE_S = 3


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
