"""A whole Aixin system for fault tests: real processes, PostgreSQL, RabbitMQ.

``FaultSystem`` gives each service a PostgreSQL database of its own and starts the
services and the gateway as ``nameko run`` processes (``simulator.launcher``) against
the virtual host it is given. ``SmallCampaign`` drives a campaign on a few dozen
beneficiaries through the gateway, and retries each state change with the same
idempotency key while a fault makes the system return 5xx or no response.
"""

import logging
import os
import random
import secrets
import signal
import socket
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
import sqlalchemy
from cryptography.fernet import Fernet
from nameko.exceptions import RpcTimeout, UnknownService
from nameko.standalone.rpc import ClusterRpcProxy

from aixin.clock import FileClock
from aixin.db import REPO_ROOT
from simulator import setup_phase
from simulator.client import Actor, GatewayError
from simulator.dates import at, campaign_dates
from simulator.launcher import SERVICES, service_env, start_process, start_system, \
    wait_until_ready
from simulator.redemption_phase import basket
from simulator.world import World

log = logging.getLogger(__name__)

AMQP_URI = os.environ.get("AMQP_URI", "amqp://guest:guest@localhost:5672/")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/postgres")
SAMPLE_ROSTER = REPO_ROOT / "deploy" / "sample" / "yancheng-dibao-sample.csv"
# The sample roster's two title and header lines, then this many persons.
SMALL_ROSTER_ROWS = 40
# How long the gateway waits for the services in fault tests, in seconds: short, so a
# request to a dead or paused service fails fast and the client retries.
FAULT_RPC_TIMEOUT_S = 15
RETRY_STATUSES = (500, 502, 503, 504)


def slow(test):
    """Mark a long variant: it runs only with SLOW=1 (``SLOW=1 make test``)."""
    skip = pytest.mark.skipif(os.environ.get("SLOW") != "1",
                              reason="long variant: set SLOW=1 to run it")
    return pytest.mark.slow(skip(test))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def small_roster(folder: Path, rows: int = SMALL_ROSTER_ROWS) -> Path:
    """Write the sample roster's first ``rows`` persons to a CSV file (GBK, as sent)."""
    lines = SAMPLE_ROSTER.read_bytes().splitlines(keepends=True)
    path = folder / "small-roster.csv"
    path.write_bytes(b"".join(lines[:2 + rows]))
    return path


class FaultSystem:
    """The services and the gateway as processes, with a database each."""

    def __init__(self, folder: Path, amqp_uri: str):
        self.folder = folder
        self.amqp_uri = amqp_uri
        self.run_id = uuid.uuid4().hex[:8]
        self.clock_path = folder / "clock.json"
        self.admin_token = "axn_" + secrets.token_urlsafe(32)
        self.port = free_port()
        self.database_urls = {}
        self._admin = sqlalchemy.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        for name in (*SERVICES, "gateway"):
            self.database_urls[name] = self._create_database(name)
        env = service_env(os.environ, folder / "data", amqp_uri, self.clock_path,
                          self.port, {
                              "AIXIN_ADMIN_TOKEN": self.admin_token,
                              "VOUCHER_MAC_KEY": secrets.token_hex(32),
                              "ROSTER_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                              "ROSTER_HASH_KEY": secrets.token_hex(32),
                              "GATEWAY_RPC_TIMEOUT_S": str(FAULT_RPC_TIMEOUT_S),
                          })
        for name, url in self.database_urls.items():
            env[f"{name.upper()}_DATABASE_URL"] = url
        self.env = env
        self.system = None
        FileClock(self.clock_path).set(at(campaign_dates("2022-12").funds_due
                                          .replace(day=1), 9))
        # The redemption service reads its clock through a symbolic link to the shared
        # clock file, so a test can give it a time of its own by replacing the link.
        self.redemption_clock_path = folder / "redemption-clock.json"
        self.redemption_clock_path.symlink_to(self.clock_path)
        self.extra_env = {"redemption": {
            "AIXIN_CLOCK": f"file:{self.redemption_clock_path}"}}

    def share_clock(self) -> None:
        """Point the redemption service's clock at the shared clock file again."""
        self.redemption_clock_path.unlink(missing_ok=True)
        self.redemption_clock_path.symlink_to(self.clock_path)

    def _env_for(self, name: str, extra_env: dict | None) -> dict:
        return {**self.extra_env.get(name, {}), **(extra_env or {})}

    @property
    def service_database_urls(self) -> dict:
        """The database URL of each service, without the gateway's: for the books."""
        return {name: url for name, url in self.database_urls.items()
                if name != "gateway"}

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _create_database(self, service: str) -> str:
        name = f"aixin_fault_{self.run_id}_{service}"
        with self._admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        return urlunsplit(urlsplit(POSTGRES_URL)._replace(path="/" + name))

    def start(self, extra_env: dict | None = None, ready_timeout_s: float = 180) -> None:
        """Start every process and wait until the gateway reports all healthy."""
        names = (*SERVICES, "gateway")
        self.system = start_system(self.env, self.logs_folder, self.port,
                                   ready_timeout_s,
                                   {name: self._env_for(name, (extra_env or {}).get(name))
                                    for name in names})

    def start_one(self, name: str, extra_env: dict | None = None) -> None:
        """Start one process without waiting (for start-order tests)."""
        if self.system is None:
            from simulator.launcher import RunningSystem
            self.logs_folder.mkdir(parents=True, exist_ok=True)
            self.system = RunningSystem(self.gateway_url, self.env, self.logs_folder)
        start_process(self.system, name, self._env_for(name, extra_env))

    def wait_answers(self, name: str, timeout_s: float = 120) -> None:
        """Wait until one process responds: the gateway over HTTP, a service over RPC."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process(name).poll() is None, f"{name} exited; see its log"
            try:
                if name == "gateway":
                    requests.get(f"{self.gateway_url}/openapi.json", timeout=5)
                    return
                with ClusterRpcProxy({"AMQP_URI": self.amqp_uri}, timeout=5) as cluster:
                    if getattr(cluster, name).health()["status"] == "ok":
                        return
            except (requests.RequestException, RpcTimeout, UnknownService):
                pass
            time.sleep(0.5)
        raise TimeoutError(f"{name} did not respond within {timeout_s:.0f} s")

    def wait_ready(self, timeout_s: float = 180) -> None:
        wait_until_ready(self.system, timeout_s)

    def process(self, name: str):
        return self.system.processes[name]

    def wait_exit(self, name: str, timeout_s: float = 120) -> int:
        """Wait until a process ends (a crash hook fired); return its exit code."""
        return self.process(name).wait(timeout=timeout_s)

    def kill(self, name: str) -> None:
        process = self.process(name)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)

    def restart(self, name: str, extra_env: dict | None = None,
                ready_timeout_s: float = 180) -> None:
        """Kill the process if it still runs, start it again and wait until all respond."""
        self.kill(name)
        start_process(self.system, name, self._env_for(name, extra_env))
        wait_until_ready(self.system, ready_timeout_s)

    @property
    def logs_folder(self) -> Path:
        return self.folder / "logs"

    def log_text(self, name: str) -> str:
        return (self.logs_folder / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.system is not None:
            self.system.stop()
        with self._admin.connect() as connection:
            for url in self.database_urls.values():
                name = urlsplit(url).path.lstrip("/")
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._admin.dispose()


def in_background(function, *args):
    """Run ``function`` in a thread; return a callable that joins it and re-raises."""
    outcome = {}

    def run():
        try:
            outcome["value"] = function(*args)
        except BaseException as error:  # noqa: BLE001 - re-raised in the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    join_thread = thread

    def join(timeout_s: float = 240):
        """Wait for the thread; return its result or raise its error."""
        thread.join(timeout_s)
        assert not thread.is_alive(), f"{function.__name__} did not finish"
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")

    join.is_alive = join_thread.is_alive
    return join


def retrying(operation, *args, timeout_s: float = 240, **kwargs):
    """Run a gateway request until it succeeds, as a client that keeps its key would.

    5xx responses and broken connections are retried after a pause; other rejections
    are raised. The caller passes the same ``idempotency_key`` on every attempt.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return operation(*args, **kwargs)
        except GatewayError as error:
            if error.status not in RETRY_STATUSES or time.monotonic() > deadline:
                raise
            log.info("retrying after %s", error)
        except requests.RequestException as error:
            if time.monotonic() > deadline:
                raise
            log.info("retrying after %s", error)
        retrying.attempts_failed += 1
        time.sleep(1.0)


# Failed attempts that ``retrying`` repeated, over the whole test session: a fault
# test compares it before and after to show that its fault was met.
retrying.attempts_failed = 0


class SmallCampaign:
    """A campaign on a small roster, played through the gateway step by step."""

    def __init__(self, fault_system: FaultSystem, seed: int = 8):
        self.fault_system = fault_system
        self.dates = campaign_dates("2022-12")
        self.world = World(fault_system.gateway_url, fault_system.admin_token,
                           fault_system.amqp_uri, random.Random(seed),
                           fault_system.folder / "out")
        self.handed_out = []  # (township, serial, check_code)
        self.redeemed = []

    def create(self) -> None:
        """Create the campaign and designate merchants: needs the gateway and redemption."""
        setup_phase.create_campaign(self.world, "411103", self.dates)
        setup_phase.designate_merchants(self.world, self.dates)

    def set_up(self) -> None:
        """Create the campaign unless done, publish the roster, fund, print."""
        world = self.world
        if world.campaign is None:
            self.create()
        setup_phase.import_and_publish_roster(
            world, [small_roster(self.fault_system.folder)])
        setup_phase.fund_the_townships(world, self.dates)
        setup_phase.print_vouchers(world)

    def townships(self):
        return [township for township in self.world.townships.values()
                if township.beneficiaries]

    def hand_out(self, count: int, on_each=None) -> int:
        """Hand out up to ``count`` vouchers, retrying through faults; return how many."""
        world = self.world
        world.set_clock(at(self.dates.funds_due + timedelta(days=2), 10))
        done = 0
        for township in self.townships():
            waiting = [person for person in township.beneficiaries
                       if person["beneficiary_id"] not in township.issued
                       and person["support_mode"] != "institutional"]
            for person in waiting:
                if done >= count:
                    return done
                if not township.stock:
                    break
                serial, check_code = township.stock.pop(0)
                retrying(township.actor.post,
                         f"{world.campaign_path}/townships/{township.code}/handouts",
                         json={"serial": serial, "beneficiary_id": person["beneficiary_id"],
                               "recipient_kind": "self", "operator": "村委会经办人"},
                         idempotency_key=uuid.uuid4().hex)
                township.issued[person["beneficiary_id"]] = (serial, check_code)
                self.handed_out.append((township, serial, check_code))
                done += 1
                if on_each:
                    on_each(done)
        return done

    def void_one(self) -> None:
        township = next(t for t in self.townships() if t.stock)
        serial, _ = township.stock.pop(0)
        retrying(township.actor.post,
                 f"{self.world.campaign_path}/townships/{township.code}/voids",
                 json={"serial": serial, "reason": "damaged", "operator": "村委会经办人",
                       "note": "印制破损"}, idempotency_key=uuid.uuid4().hex)

    def redeem(self, count: int, on_each=None) -> int:
        """Redeem up to ``count`` handed-out vouchers; return how many."""
        world = self.world
        world.set_clock(at(self.dates.funds_due + timedelta(days=20), 10))
        done = 0
        spent = {serial for _, serial in self.redeemed}
        for township, serial, check_code in list(self.handed_out):
            if done >= count:
                break
            if serial in spent:
                continue
            self.redeem_voucher(township, serial, check_code)
            done += 1
            if on_each:
                on_each(done)
        return done

    def redeem_voucher(self, township, serial, check_code, key=None):
        merchant = township.merchants[0]
        lines, total = basket(self.world.rng)
        result = retrying(merchant.actor.post, f"{self.world.campaign_path}/redemptions",
                          json={"serial": serial, "check_code": check_code,
                                "till_transaction_id": f"T{uuid.uuid4().hex[:12]}",
                                "lines": lines, "total_fen": total},
                          idempotency_key=key or uuid.uuid4().hex)
        self.redeemed.append((township, serial))
        return result


def actor_for(base_url: str, token: str, name: str) -> Actor:
    return Actor(base_url, token, name)
