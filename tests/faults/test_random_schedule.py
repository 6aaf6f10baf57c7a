"""A seeded random schedule of crashes, broker outages, database outages and pauses.

The whole system runs on a RabbitMQ node and a PostgreSQL cluster of the test's own
(``private_rabbit``, ``private_postgres``), so both can be stopped, killed and paused.
A small campaign hands out vouchers and then redeems them while the faults happen, one
after another. Each fault is one of:

- ``crash``: a consumer killed with SIGKILL after its commit and before its ack
  (crash point ``consumer_after_commit``), then restarted;
- ``broker``: the RabbitMQ node stopped gracefully or killed, and started again;
- ``database``: every PostgreSQL connection terminated, or the cluster paused with
  SIGSTOP for longer than the statement timeout;
- ``pause``: one service paused with SIGSTOP until RabbitMQ dropped its connection
  for missed heartbeats, then resumed.

Afterwards the books must balance (``books.py``) and agree with a model built only from
the client's requests and replies (``campaign_model.py``). The seed is printed at the
start and named in every failure; ``AIXIN_FAULT_SEED=<seed>`` replays the schedule.
Timing under load still varies between runs, so a replay meets the same faults in the
same order but not at the same instants.
"""

import os
import random
import time

import pytest
from kombu import Connection

from aixin import events
from aixin.fault_hooks import CRASH_AT_VARIABLE, CRASH_MARKER_VARIABLE
from tests.faults.books import wait_for_balanced_books
from tests.faults.campaign_model import ModelledCampaign, compare_with_services
from tests.faults.harness import FaultSystem, in_background, slow
from tests.faults.private_postgres import PrivatePostgres
from tests.faults.private_rabbit import PrivateRabbit

SIGKILL_EXIT = -9
# The RabbitMQ node offers this heartbeat, in seconds, and nameko's connections accept
# the lower of it and their own 60 s, so a paused service loses its connection after
# about two heartbeats instead of two minutes.
HEARTBEAT_S = 4
BROKER_OUTAGE_S = 3
STATEMENT_TIMEOUT_MS = 3000
DATABASE_PAUSE_S = 8  # past the statement timeout and the client-side limit (8 s)
PAUSABLE = ("issuance", "redemption", "settlement", "reporting")
# Consumers that run during each phase, as crash point targets.
CRASH_TARGETS = {
    "handout": ("redemption.on_voucher_issued", "reporting.on_voucher_issued"),
    "redemption": ("issuance.on_voucher_redeemed", "settlement.on_voucher_redeemed",
                   "reporting.on_voucher_redeemed"),
}
KINDS = ("crash", "broker", "database", "pause")


def fault_seed() -> int:
    """The seed from ``AIXIN_FAULT_SEED``, or a new one."""
    return int(os.environ.get("AIXIN_FAULT_SEED") or random.randrange(1_000_000))


class PrivateFaultSystem(FaultSystem):
    """The services and the gateway with their databases on a private cluster."""

    def __init__(self, folder, amqp_uri: str, cluster: PrivatePostgres):
        self.cluster = cluster
        super().__init__(folder, amqp_uri)
        self.env["AIXIN_DB_STATEMENT_TIMEOUT_MS"] = str(STATEMENT_TIMEOUT_MS)
        self.env["AIXIN_DB_CONNECT_TIMEOUT_S"] = "2"

    def _create_database(self, service: str) -> str:
        return self.cluster.create_database(f"aixin_fault_{self.run_id}_{service}")

    def stop(self) -> None:
        # The databases go with the cluster, so nothing is dropped on the shared server.
        if self.system is not None:
            self.system.stop()
        self._admin.dispose()


@pytest.fixture
def rabbit():
    node = PrivateRabbit()
    with open(node.folder / "rabbitmq.conf", "a") as config:
        config.write(f"heartbeat = {HEARTBEAT_S}\n")
    try:
        node.start()
        yield node
    finally:
        node.remove()


@pytest.fixture
def cluster():
    postgres = PrivatePostgres()
    try:
        postgres.start()
        yield postgres
    finally:
        postgres.stop()


@pytest.fixture
def system(rabbit, cluster, tmp_path):
    running = PrivateFaultSystem(tmp_path, rabbit.amqp_uri, cluster)
    try:
        running.start()
        yield running
    finally:
        running.stop()


def draw_schedule(rng: random.Random, rounds: int) -> list[tuple[str, str, str]]:
    """Return (phase, kind, detail) steps: every kind ``rounds`` times, shuffled.

    The first half of the steps happen during hand-out, the rest during redemption.
    """
    kinds = list(KINDS) * rounds
    rng.shuffle(kinds)
    steps = []
    for index, kind in enumerate(kinds):
        phase = "handout" if index < len(kinds) // 2 else "redemption"
        if kind == "crash":
            detail = rng.choice(CRASH_TARGETS[phase])
        elif kind == "broker":
            detail = rng.choice(("stop", "kill"))
        elif kind == "database":
            detail = rng.choice(("terminate", "pause"))
        else:
            detail = rng.choice(PAUSABLE)
        steps.append((phase, kind, detail))
    return steps


class Schedule:
    """Runs the faults of a schedule while the campaign works."""

    def __init__(self, system, rabbit, cluster, seed: int):
        self.system = system
        self.rabbit = rabbit
        self.cluster = cluster
        self.seed = seed

    def fail(self, message: str) -> None:
        pytest.fail(f"{message} (AIXIN_FAULT_SEED={self.seed})")

    def run_step(self, kind: str, detail: str, work) -> None:
        """Inject one fault, run ``work`` through it, and wait until it has healed."""
        if kind == "crash":
            self._crash(detail, work)
            return
        fault = {"broker": self._broker_outage, "database": self._database_outage,
                 "pause": self._service_pause}[kind]
        join = in_background(fault, detail)
        work()
        join(timeout_s=300)

    def _crash(self, target: str, work) -> None:
        service = target.split(".")[0]
        marker = self.system.folder / f"crash-{random.randrange(1 << 30):08x}"
        self.system.restart(service, {CRASH_AT_VARIABLE: f"consumer_after_commit:{target}",
                                      CRASH_MARKER_VARIABLE: str(marker)})
        work()
        try:
            code = self.system.wait_exit(service, timeout_s=120)
        except Exception:  # noqa: BLE001 - reported with the seed below
            self.fail(f"{service} did not crash at consumer_after_commit:{target}")
        if code != SIGKILL_EXIT:
            self.fail(f"{service} exited with {code}, not at its crash point")
        self.system.restart(service)

    def _broker_outage(self, how: str) -> None:
        time.sleep(0.5)
        getattr(self.rabbit, how)()
        time.sleep(BROKER_OUTAGE_S)
        self.rabbit.start()

    def _database_outage(self, how: str) -> None:
        time.sleep(0.5)
        if how == "terminate":
            for url in self.system.database_urls.values():
                self.cluster.terminate_backends(url.rsplit("/", 1)[1])
            return
        self.cluster.pause()
        try:
            time.sleep(DATABASE_PAUSE_S)
        finally:
            self.cluster.resume()

    def _service_pause(self, service: str) -> None:
        queue = _queue_of(service)
        process = self.system.process(service)
        time.sleep(0.5)
        self.system.system.pause(service)
        try:
            _wait_for_consumers(self.system.amqp_uri, queue, lambda count: count == 0,
                                timeout_s=120, what="RabbitMQ to drop the paused "
                                                    f"{service}")
            time.sleep(HEARTBEAT_S)
        finally:
            self.system.system.resume(service)
        _wait_for_consumers(self.system.amqp_uri, queue, lambda count: count >= 1,
                            timeout_s=120, what=f"{service} to consume again after "
                                                "SIGCONT")
        assert process.poll() is None, f"{service} exited after SIGCONT"


def _queue_of(service: str) -> str:
    return next(events.queue_name(event_type, service)
                for event_type, spec in events.CATALOGUE.items()
                if service in spec.consumers)


def _consumers(amqp_uri: str, queue: str) -> int | None:
    try:
        with Connection(amqp_uri, connect_timeout=5) as connection:
            channel = connection.channel()
            try:
                return channel.queue_declare(queue=queue, passive=True)[2]
            finally:
                channel.close()
    except Exception:  # noqa: BLE001 - broker restarting: ask again
        return None


def _wait_for_consumers(amqp_uri: str, queue: str, condition, timeout_s: float,
                        what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        count = _consumers(amqp_uri, queue)
        if count is not None and condition(count):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}; "
                                 f"{queue} has {count} consumers")
        time.sleep(0.5)


def run_schedule(system, rabbit, cluster, rounds: int, per_step: int,
                 roster_rows: int) -> None:
    seed = fault_seed()
    rng = random.Random(seed)
    steps = draw_schedule(rng, rounds)
    print(f"fault schedule (AIXIN_FAULT_SEED={seed}): {steps}")
    campaign = ModelledCampaign(system, seed, roster_rows)
    campaign.set_up()
    schedule = Schedule(system, rabbit, cluster, seed)
    handout_steps = sum(1 for phase, _, _ in steps if phase == "handout")

    for number, (phase, kind, detail) in enumerate(steps, start=1):
        print(f"step {number}/{len(steps)}: {kind} {detail} during {phase}")
        if phase == "handout":
            def work(last=number == handout_steps):
                handed = campaign.hand_out(per_step)
                if handed != per_step:
                    schedule.fail(f"handed out {handed} of {per_step}: roster too small")
                if last:
                    campaign.void_one()
                    campaign.try_second_handout()
        else:
            def work():
                campaign.redeem(per_step - 1)
                campaign.try_second_redemption()
        schedule.run_step(kind, detail, work)

    books = wait_for_balanced_books(system.service_database_urls, system.amqp_uri,
                                    timeout_s=240)
    print(f"books after the schedule: {books.figures}")
    differences = compare_with_services(campaign)
    assert not differences, (f"the services disagree with the model of the campaign "
                             f"(AIXIN_FAULT_SEED={seed}):\n" + "\n".join(differences))
    assert books.figures["redemptions"] == len(campaign.model.redemptions), \
        f"AIXIN_FAULT_SEED={seed}"
    assert books.figures["issuance_voided"] == len(campaign.model.voided), \
        f"AIXIN_FAULT_SEED={seed}"


@pytest.mark.timeout(600)
def test_random_faults_keep_books(system, rabbit, cluster):
    run_schedule(system, rabbit, cluster, rounds=1, per_step=3, roster_rows=40)


@slow
@pytest.mark.timeout(2400)
def test_random_faults_keep_books_long(system, rabbit, cluster):
    run_schedule(system, rabbit, cluster, rounds=3, per_step=4, roster_rows=120)
