"""Crashes around commits, duplicate deliveries and late RPC requests.

One system runs for the whole module on a small campaign. Each test arms a crash point
of ``aixin.fault_hooks`` in one service (restarting it with the hook's environment),
drives the campaign through the crash, restarts what died and checks the books.
"""

import os
import random
import re
import time
import uuid
from datetime import timedelta

import eventlet
import pytest
from nameko.exceptions import RpcTimeout
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import create_engine, text

from aixin import events
from aixin.fault_hooks import CRASH_AT_VARIABLE, CRASH_MARKER_VARIABLE
from aixin.outbox import BrokerPublisher
from simulator import broker
from tests.faults.books import wait_for_balanced_books
from aixin.clock import FileClock, end_of_day
from simulator.client import GatewayError
from simulator.launcher import SERVICES
from tests.faults.harness import (AMQP_URI, FaultSystem, SmallCampaign, in_background,
                                  retrying, slow)

PROCESSES = (*SERVICES, "gateway")

SIGKILL_EXIT = -9


# Seed of the start order; set AIXIN_FAULT_SEED to replay a failed order.
START_ORDER_SEED = int(os.environ.get("AIXIN_FAULT_SEED") or random.randrange(1_000_000))


def start_in_order(system, order):
    """Start the processes one by one; create the campaign as soon as it can be.

    The campaign's events go out while the services later in ``order`` have never run,
    so their queues exist only because the relay declared them.
    """
    campaign = None
    for name in order:
        system.start_one(name)
        system.wait_answers(name)
        if campaign is None and {"gateway", "redemption"} <= set(system.system.processes):
            campaign = SmallCampaign(system)
            campaign.create()
    system.wait_ready()
    campaign.set_up()
    return campaign


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    vhost = f"aixin-fault-{uuid.uuid4().hex[:10]}"
    amqp_uri = broker.create_vhost(AMQP_URI, vhost)
    assert amqp_uri, "cannot create a RabbitMQ virtual host for the fault tests"
    system = FaultSystem(tmp_path_factory.mktemp("crash"), amqp_uri)
    order = list(PROCESSES)
    random.Random(START_ORDER_SEED).shuffle(order)
    print(f"start order {order} (AIXIN_FAULT_SEED={START_ORDER_SEED})")
    try:
        campaign = start_in_order(system, order)
        yield system, campaign
    finally:
        system.stop()
        broker.delete_vhost(AMQP_URI, vhost)


def armed(system, point: str, target: str) -> dict:
    marker = system.folder / f"crash-{uuid.uuid4().hex[:8]}"
    return {CRASH_AT_VARIABLE: f"{point}:{target}", CRASH_MARKER_VARIABLE: str(marker)}


def crash_and_recover(system, service: str, point: str, target: str, drive) -> None:
    """Arm a crash in ``service``, run ``drive`` until it fires, restart the service."""
    system.restart(service, armed(system, point, target))
    join = in_background(drive)
    process = system.process(service)
    deadline = time.monotonic() + 180
    while process.poll() is None and time.monotonic() < deadline:
        if not join.is_alive():
            join()
            # The work is done: give the consumer a moment to reach the crash point.
            deadline = min(deadline, time.monotonic() + 30)
        time.sleep(0.2)
    assert process.poll() == SIGKILL_EXIT, f"{service} did not crash at {point}:{target}"
    system.restart(service)
    join()


def handed_out(campaign, count: int) -> None:
    assert campaign.hand_out(count) == count, "ran out of vouchers to hand out"


def count_in_log(system, service: str, pattern: str) -> int:
    return len(re.findall(pattern, system.log_text(service)))


def wait_for_log(system, service: str, pattern: str, at_least: int = 1,
                 timeout_s: float = 120) -> int:
    deadline = time.monotonic() + timeout_s
    while True:
        found = count_in_log(system, service, pattern)
        if found >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


class TestStartOrder:
    def test_campaign_events_reach_late_services(self, running):
        system, campaign = running
        books = wait_for_balanced_books(system.service_database_urls, system.amqp_uri)
        assert books.figures["issuance_printed"] > 0
        for consumer in events.spec_of("campaign_created").consumers:
            assert processed_count(system, consumer, "campaign_created") == 1, consumer
        for consumer in events.spec_of("merchant_designated").consumers:
            assert processed_count(system, consumer, "merchant_designated") == \
                len(campaign.world.merchants), consumer


def processed_count(system, service: str, event_type: str) -> int:
    engine = create_engine(system.database_urls[service])
    try:
        with engine.connect() as connection:
            return connection.execute(text(
                "SELECT count(*) FROM processed_events WHERE handler = :handler"),
                {"handler": f"{service}.{events.handler_name(event_type)}"}).scalar_one()
    finally:
        engine.dispose()


class TestConsumerKilledAfterCommit:
    def test_redelivery_applied_once(self, running):
        system, campaign = running
        handler = "reporting.on_voucher_issued"
        crash_and_recover(system, "reporting", "consumer_after_commit", handler,
                          lambda: handed_out(campaign, 3))
        books = wait_for_balanced_books(system.service_database_urls, system.amqp_uri)
        assert books.figures["reporting_issued"] == books.figures["issuance_ever_issued"]
        duplicates = wait_for_log(system, "reporting",
                                  rf"ignored duplicate event handler={handler}")
        assert duplicates >= 1

    @slow
    @pytest.mark.parametrize("service,handler,drive", [
        ("redemption", "redemption.on_voucher_issued", "hand_out"),
        ("issuance", "issuance.on_voucher_redeemed", "redeem"),
        ("settlement", "settlement.on_voucher_redeemed", "redeem"),
        ("reporting", "reporting.on_voucher_redeemed", "redeem"),
    ])
    def test_every_consumer_killed(self, running, service, handler, drive):
        system, campaign = running
        if drive == "redeem" and len(campaign.handed_out) <= len(campaign.redeemed) + 2:
            campaign.hand_out(3)
        crash_and_recover(system, service, "consumer_after_commit", handler,
                          lambda: getattr(campaign, drive)(2))
        wait_for_balanced_books(system.service_database_urls, system.amqp_uri)


class TestProducerKilledBeforePublish:
    def test_outbox_event_published_after_restart(self, running):
        system, campaign = running
        crash_and_recover(system, "issuance", "producer_after_commit", "issuance",
                          lambda: handed_out(campaign, 1))
        books = wait_for_balanced_books(system.service_database_urls, system.amqp_uri)
        assert books.figures["redemption_known_issued"] == len(campaign.handed_out)

    def test_event_published_twice_applied_once(self, running):
        system, campaign = running
        crash_and_recover(system, "issuance", "relay_after_publish", "issuance",
                          lambda: handed_out(campaign, 1))
        books = wait_for_balanced_books(system.service_database_urls, system.amqp_uri)
        assert books.figures["reporting_issued"] == len(campaign.handed_out)
        duplicates = wait_for_log(system, "redemption",
                                  r"ignored duplicate event handler=redemption"
                                  r"\.on_voucher_issued")
        assert duplicates >= 1


class TestDuplicateDelivery:
    def test_event_delivered_five_times(self, running):
        system, campaign = running
        if len(campaign.handed_out) <= len(campaign.redeemed):
            campaign.hand_out(2)
        campaign.redeem(1)
        before = wait_for_balanced_books(system.service_database_urls, system.amqp_uri)
        envelope = last_published(system, "redemption", "voucher_redeemed")
        publisher = BrokerPublisher(system.amqp_uri, "redemption")
        try:
            for _ in range(5):
                publisher.publish(envelope)
        finally:
            publisher.close()
        pattern = rf"ignored (concurrent )?duplicate event handler=%s\.on_voucher_redeemed " \
                  rf"event_id={envelope['id']}"
        for consumer in ("issuance", "settlement", "reporting"):
            assert wait_for_log(system, consumer, pattern % consumer, at_least=5) == 5
        after = wait_for_balanced_books(system.service_database_urls, system.amqp_uri)
        for figure in ("redemptions", "settlement_redemptions", "reporting_redeemed",
                       "redemptions_fen", "settlement_redemptions_fen",
                       "reporting_redeemed_fen", "ledger_accounts"):
            assert after.figures[figure] == before.figures[figure], figure


def last_published(system, producer: str, event_type: str) -> dict:
    import json
    engine = create_engine(system.database_urls[producer])
    try:
        with engine.connect() as connection:
            body = connection.execute(text(
                "SELECT body FROM outbox WHERE event_type = :type "
                "AND published_at IS NOT NULL ORDER BY position DESC LIMIT 1"),
                {"type": event_type}).scalar_one()
    finally:
        engine.dispose()
    return json.loads(body)


def voucher_state(system, serial: str) -> str:
    engine = create_engine(system.database_urls["issuance"])
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT state FROM vouchers WHERE serial = :s"),
                                      {"s": serial}).scalar_one()
    finally:
        engine.dispose()


class TestLateRpcRequest:
    def test_request_past_deadline_dropped(self, running):
        system, campaign = running
        township, person, serial = next_handout(campaign)
        key = uuid.uuid4().hex
        path = f"{campaign.world.campaign_path}/townships/{township.code}/handouts"
        body = {"serial": serial, "beneficiary_id": person["beneficiary_id"],
                "recipient_kind": "self", "operator": "村委会经办人"}
        system.kill("issuance")
        with pytest.raises(GatewayError) as timed_out:
            township.actor.post(path, json=body, idempotency_key=key)
        assert timed_out.value.status == 504
        assert timed_out.value.code == "upstream_timeout"
        dropped = count_in_log(system, "issuance", r"dropped RPC request past its deadline")
        system.restart("issuance")
        pattern = r"dropped RPC request past its deadline service=issuance method=hand_out"
        assert wait_for_log(system, "issuance", pattern, at_least=dropped + 1) == dropped + 1
        assert voucher_state(system, serial) == "in_stock"
        retrying(township.actor.post, path, json=body, idempotency_key=key)
        record_handout(campaign, township, person, serial)
        assert voucher_state(system, serial) == "issued"
        wait_for_balanced_books(system.service_database_urls, system.amqp_uri)

    def test_late_request_harmless_with_key(self, running):
        system, campaign = running
        township, person, serial = next_handout(campaign)
        key = uuid.uuid4().hex
        body = {"serial": serial, "beneficiary_id": person["beneficiary_id"],
                "recipient_kind": "self", "operator": "村委会经办人"}
        actor = {"role": "township", "scope": township.code, "name": "测试经办人",
                 "token_id": None, "correlation_id": uuid.uuid4().hex}
        system.kill("issuance")
        # A caller without a deadline, like an older client: its request runs late.
        with ClusterRpcProxy({"AMQP_URI": system.amqp_uri}, timeout=3) as cluster:
            with pytest.raises(RpcTimeout):
                cluster.issuance.hand_out(actor, campaign.world.campaign["campaign_id"],
                                          township.code, body, key)
        system.restart("issuance")
        poll(lambda: voucher_state(system, serial) == "issued", 120)
        path = f"{campaign.world.campaign_path}/townships/{township.code}/handouts"
        replayed = retrying(township.actor.post, path, json=body, idempotency_key=key)
        assert replayed["serial"] == serial
        record_handout(campaign, township, person, serial)
        books = wait_for_balanced_books(system.service_database_urls, system.amqp_uri)
        assert books.figures["issuance_ever_issued"] == len(campaign.handed_out)


def next_handout(campaign):
    for township in campaign.townships():
        for person in township.beneficiaries:
            if person["beneficiary_id"] in township.issued or not township.stock:
                continue
            if person["support_mode"] == "institutional":
                continue
            serial, check_code = township.stock.pop(0)
            township.pending_code = check_code
            return township, person, serial
    raise AssertionError("no beneficiary left to hand a voucher to")


def record_handout(campaign, township, person, serial) -> None:
    township.issued[person["beneficiary_id"]] = (serial, township.pending_code)
    campaign.handed_out.append((township, serial, township.pending_code))


def poll(predicate, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        eventlet.sleep(0.5)


def redemption_times(system, serial: str) -> tuple:
    times = []
    for service in ("redemption", "settlement"):
        engine = create_engine(system.database_urls[service])
        try:
            with engine.connect() as connection:
                times.append(connection.execute(text(
                    "SELECT redeemed_at FROM redemptions WHERE serial = :s"),
                    {"s": serial}).scalar_one())
        finally:
            engine.dispose()
    return tuple(times)


class TestSkewedClocks:
    def test_redemption_clock_decides_deadline(self, running):
        system, campaign = running
        while len(campaign.handed_out) < len(campaign.redeemed) + 2:
            assert campaign.hand_out(1) == 1
        spent = {serial for _, serial in campaign.redeemed}
        unspent = [entry for entry in campaign.handed_out if entry[1] not in spent]
        (first, first_serial, first_code), (second, second_serial, second_code) = \
            unspent[:2]
        closing = end_of_day(campaign.dates.redemption_deadline)
        try:
            # Redemption 10 s before its deadline while the gateway is an hour past it.
            FileClock(system.redemption_clock_path).set(closing - timedelta(seconds=10))
            FileClock(system.clock_path).set(closing + timedelta(hours=1))
            campaign.redeem_voucher(first, first_serial, first_code)
            # Redemption 10 s past its deadline while the gateway is an hour before it.
            FileClock(system.redemption_clock_path).set(closing + timedelta(seconds=10))
            FileClock(system.clock_path).set(closing - timedelta(hours=1))
            with pytest.raises(GatewayError) as rejected:
                campaign.redeem_voucher(second, second_serial, second_code)
        finally:
            system.share_clock()
        assert rejected.value.code == "redemption_deadline_passed"
        books = wait_for_balanced_books(system.service_database_urls, system.amqp_uri)
        assert books.figures["redemptions"] == len(campaign.redeemed)
        redeemed_at, settled_at = redemption_times(system, first_serial)
        assert redeemed_at == closing - timedelta(seconds=10)
        assert settled_at == redeemed_at
