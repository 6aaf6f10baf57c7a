"""Benchmark redemptions through the gateway on PostgreSQL, beside a bare RPC.

Starts the redemption service, the gateway and a trivial ``bench_echo`` service
(``benchmarks.rpc_echo``) as ``nameko run`` processes, on a RabbitMQ virtual host and
two PostgreSQL databases (redemption, gateway) that this run creates, all on loopback.
It creates a campaign and merchants through the gateway, feeds ``--vouchers`` issued
vouchers to the redemption service as ``vouchers_printed`` and ``voucher_issued``
events, and then measures, at each concurrency level (default 1, 4, 16, 32 clients):

- ``rpc``: ``bench_echo.ping()`` round trips, one ``ClusterRpcProxy`` per client;
- ``redeem``: ``POST /v1/campaigns/<id>/redemptions`` through the gateway, each a
  fresh voucher with an itemised statement and its own idempotency key.

Each level runs for ``--seconds`` or ``--max-per-level`` requests, whichever ends
first, after a warm-up, and prints the throughput and the p50 and p99 latency. The
clients are green threads in this process. Everything the run creates is removed at
the end, also after a failure. Run from the repository root::

    .venv/bin/python -m benchmarks.redemption_throughput
    .venv/bin/python -m benchmarks.redemption_throughput --levels 1 8 --seconds 5

The run only measures. It never fails for missing the target (300 redemptions per
second with p99 under 100 ms on two cores), but its report states whether the target
was met.
"""

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402 - eventlet must patch the standard library first
import http.client  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import deque  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from dataclasses import asdict, dataclass  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

import sqlalchemy  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from aixin.clock import CAMPAIGN_TZ, FileClock  # noqa: E402
from aixin.outbox import BrokerPublisher, build_event  # noqa: E402
from aixin.vouchers import check_code, make_serial  # noqa: E402
from services.redemption.domain.uscc import make_uscc  # noqa: E402
from simulator import broker  # noqa: E402

log = logging.getLogger("redemption_throughput")

REPO = Path(__file__).resolve().parents[1]
CAMPAIGN_ID = "411103-2022-12"
CAMPAIGN = {
    "name": "郾城区爱心消费券", "district_code": "411103", "district_name": "郾城区",
    "face_value_fen": 30000, "snapshot_month": "2022-12", "funds_due": "2023-01-13",
    "redemption_deadline": "2023-02-28", "joint_audit_date": "2023-03-06",
    "clearing_deadline": "2023-03-31",
}
ISSUED_AT = datetime(2023, 1, 15, 10, 0, tzinfo=CAMPAIGN_TZ)
SHOPPING_AT = datetime(2023, 1, 20, 10, 0, tzinfo=CAMPAIGN_TZ)
TOWNSHIPS = ("411103100000", "411103101000", "411103102000", "411103103000")
MAC_KEY = "bench-check-code-key-" + uuid.uuid4().hex
ADMIN_TOKEN = "axn_" + uuid.uuid4().hex + uuid.uuid4().hex
TARGET_RATE = 300
TARGET_P99_MS = 100
START_TIMEOUT_S = 90
FEED_TIMEOUT_S = 600
WARM_UP_REQUESTS = 300
# A shopper's basket; its total is above the face value, so the person pays the rest.
LINES = [
    {"item": "大米 10kg", "category": "grain", "quantity": 2, "unit_price_fen": 6500,
     "amount_fen": 13000},
    {"item": "食用油 5L", "category": "grain_oil", "quantity": 1,
     "unit_price_fen": 7990, "amount_fen": 7990},
    {"item": "鸡蛋 30枚", "category": "eggs", "quantity": 2, "unit_price_fen": 2450,
     "amount_fen": 4900},
    {"item": "猪肉 1kg", "category": "meat", "quantity": 2, "unit_price_fen": 2800,
     "amount_fen": 5600},
]
TOTAL_FEN = sum(line["amount_fen"] for line in LINES)


class BenchmarkError(RuntimeError):
    """A step of the benchmark failed. The message names the step and the cause."""


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 4, 16, 32],
                        help="concurrent clients of each level (default 1 4 16 32)")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="how long each level runs at most (default 10)")
    parser.add_argument("--max-per-level", type=int, default=5000,
                        help="requests of a level at most (default 5000)")
    parser.add_argument("--vouchers", type=int, default=None,
                        help="issued vouchers to prepare; a level that uses them up "
                             "ends early (default: enough for the warm-up and "
                             "--max-per-level requests at every level)")
    parser.add_argument("--rpc-seconds", type=float, default=5.0,
                        help="how long each level of bare RPC runs (default 5)")
    parser.add_argument("--redemption-instances", type=int, default=1,
                        help="redemption service processes on the same queue and "
                             "database, as with docker compose --scale redemption=N "
                             "(default 1)")
    parser.add_argument("--broker-pid", type=int,
                        help="also report the CPU time per request of this process, "
                             "the RabbitMQ server (beam.smp); it includes the work of "
                             "anything else using the broker meanwhile")
    parser.add_argument("--redemption-workers", type=int,
                        help="REDEMPTION_MAX_WORKERS of each redemption process "
                             "(default: the shipped configuration, 10)")
    parser.add_argument("--gateway-workers", type=int,
                        help="GATEWAY_MAX_WORKERS of the gateway (default: the "
                             "shipped configuration, 20)")
    parser.add_argument("--postgres-url",
                        default=os.environ.get("TEST_POSTGRES_URL",
                                               "postgresql://postgres@127.0.0.1:5432/postgres"),
                        help="PostgreSQL server; the run creates and drops its "
                             "databases")
    parser.add_argument("--amqp-uri",
                        default=os.environ.get("AMQP_URI",
                                               "amqp://guest:guest@localhost:5672/"),
                        help="RabbitMQ server; the run creates and deletes a virtual "
                             "host")
    parser.add_argument("--profile", type=Path,
                        help="record py-spy profiles (raw collapsed stacks) of the "
                             "gateway and the redemption service during the busiest "
                             "level into this folder; needs py-spy on PATH")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep-logs", type=Path,
                        help="copy the services' logs to this folder at the end")
    args = parser.parse_args(argv)
    if args.vouchers is None:
        args.vouchers = WARM_UP_REQUESTS + args.max_per_level * len(args.levels)
    return args


# -- what the run creates --------------------------------------------------------------

def virtual_host(stack: ExitStack, amqp_uri: str) -> str:
    vhost = f"aixin-bench-{uuid.uuid4().hex[:10]}"
    uri = broker.create_vhost(amqp_uri, vhost)
    if uri is None:
        raise BenchmarkError("cannot create a RabbitMQ virtual host: enable the "
                             "management plugin or run where rabbitmqctl works")
    stack.callback(broker.delete_vhost, amqp_uri, vhost)
    return uri


def databases(stack: ExitStack, postgres_url: str, *labels: str) -> dict:
    """Create one empty database per label, dropped when the run ends."""
    admin = sqlalchemy.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    stack.callback(admin.dispose)
    urls = {}
    for label in labels:
        name = f"aixin_bench_{uuid.uuid4().hex[:8]}_{label}"
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        stack.callback(_drop_database, admin, name)
        urls[label] = urlunsplit(urlsplit(postgres_url)._replace(path="/" + name))
    return urls


def _drop_database(admin, name: str) -> None:
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log_path: Path
    group: str = ""  # several instances of one service share a group for CPU time


def start(stack: ExitStack, name: str, args: list[str], env: dict,
          folder: Path, group: str = "") -> Process:
    log_path = folder / f"{name}.log"
    with log_path.open("ab") as output:
        popen = subprocess.Popen([sys.executable, "-m", "nameko", "run", *args],
                                 cwd=REPO, env=env, stdout=output,
                                 stderr=subprocess.STDOUT)
    process = Process(name, popen, log_path, group or name)
    stack.callback(stop, process)
    return process


def stop(process: Process) -> None:
    if process.popen.poll() is None:
        process.popen.send_signal(signal.SIGTERM)
        try:
            process.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.popen.kill()
            process.popen.wait()


def wait_until(what: str, ready, processes, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for process in processes:
            if process.popen.poll() is not None:
                raise BenchmarkError(f"{process.name} exited with code "
                                     f"{process.popen.returncode}; "
                                     f"see {process.log_path}")
        if ready():
            return
        time.sleep(0.3)
    raise BenchmarkError(f"{what} not ready after {timeout_s:.0f} s")


# -- the campaign and the vouchers -----------------------------------------------------

class Gateway:
    """A small HTTP client of the gateway, one keep-alive connection per instance."""

    def __init__(self, port: int, token: str):
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}",
                        "Content-Type": "application/json"}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body=None, key: str | None = None):
        headers = dict(self.headers)
        if key:
            headers["Idempotency-Key"] = key
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        try:
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()  # a fresh connection for the next request
            raise
        return response.status, content

    def json(self, method: str, path: str, body=None, expect: int = 200):
        status, content = self.request(method, path, body, key=uuid.uuid4().hex)
        if status != expect:
            raise BenchmarkError(f"{method} {path} returned HTTP {status}: "
                                 f"{content[:300]!r}")
        return json.loads(content)

    def close(self) -> None:
        self.connection.close()


def set_up_campaign(port: int) -> dict:
    """Create the campaign and one merchant per township; return each till's token."""
    admin = Gateway(port, ADMIN_TOKEN)
    try:
        commerce = admin.json("POST", "/v1/tokens", {
            "role": "commerce", "name": "benchmark commerce"}, expect=201)["token"]
        bureau = Gateway(port, commerce)
        bureau.json("POST", "/v1/campaigns", CAMPAIGN, expect=201)
        tills = {}
        for number, township in enumerate(TOWNSHIPS, start=1):
            code = make_uscc("411103", number)
            bureau.json("POST", f"/v1/campaigns/{CAMPAIGN_ID}/merchants", {
                "merchant_code": code, "name": f"基准测试超市{number}",
                "above_size": True, "stores": 4, "township_codes": [township],
                "valid_from": "2023-01-01", "valid_to": "2023-03-31"}, expect=201)
            tills[township] = admin.json("POST", "/v1/tokens", {
                "role": "merchant", "scope": code, "name": f"till {number}"},
                expect=201)["token"]
        bureau.close()
        return tills
    finally:
        admin.close()


def feed_vouchers(amqp_uri: str, count: int) -> list[tuple[str, str]]:
    """Publish print and hand-out events of ``count`` vouchers; return (township,
    serial) pairs, the townships taking turns."""
    per_township = -(-count // len(TOWNSHIPS))
    publisher = BrokerPublisher(amqp_uri, "issuance")
    vouchers = []
    try:
        for township in TOWNSHIPS:
            serials = [make_serial(1, township, sequence)
                       for sequence in range(1, per_township + 1)]
            publisher.publish(build_event("vouchers_printed", {
                "campaign_id": CAMPAIGN_ID, "batch_id": f"bench-{township}",
                "township_code": township, "merchant_code": make_uscc("411103", 1),
                "serials": serials, "printed_at": ISSUED_AT}, ISSUED_AT))
            for serial in serials:
                publisher.publish(build_event("voucher_issued", {
                    "campaign_id": CAMPAIGN_ID, "serial": serial,
                    "beneficiary_id": f"b-{serial}", "beneficiary_name": "张三",
                    "masked_id": "411103********1234", "township_code": township,
                    "village": f"村{int(serial[-4:-1]) % 40}", "institution": None,
                    "recipient_kind": "self", "issued_at": ISSUED_AT,
                    "late": False}, ISSUED_AT))
            vouchers.append([(township, serial) for serial in serials])
    finally:
        publisher.close()
    interleaved = [pair for group in zip(*vouchers, strict=True) for pair in group]
    return interleaved[:count]


def issued_count(engine) -> int:
    with engine.connect() as connection:
        return connection.exec_driver_sql(
            "SELECT count(*) FROM vouchers WHERE state = 'issued'").scalar_one()


# -- measuring -------------------------------------------------------------------------

@dataclass
class Level:
    kind: str
    clients: int
    requests: int
    errors: int
    seconds: float
    rate_per_s: float
    p50_ms: float
    p99_ms: float
    note: str = ""
    # CPU time each process spent per request during the level, in milliseconds, and
    # the database transactions per request (not milliseconds: counts).
    cpu_ms_per_request: dict = None


def percentile(sorted_values: list[float], share: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(share * len(sorted_values)) - 1))
    return sorted_values[index]


def run_level(kind: str, clients: int, seconds: float, limit: int, make_client,
              call, meter=None) -> Level:
    """Run ``clients`` green threads calling ``call(client)`` until time or count ends.

    ``meter`` (a CpuMeter) adds the CPU time per request of each process.
    """
    latencies, errors, problems = [], [0], []
    started = [0]
    holders = [make_client() for _ in range(clients)]
    deadline = [0.0]

    def worker(client):
        while time.monotonic() < deadline[0] and started[0] < limit:
            started[0] += 1
            begin = time.perf_counter()
            try:
                ok = call(client)
            except StopIteration:
                return
            except Exception as error:  # noqa: BLE001 - count it and go on
                ok = False
                if len(problems) < 5:
                    problems.append(f"{type(error).__name__}: {error}")
            latencies.append(time.perf_counter() - begin)
            if not ok:
                errors[0] += 1

    pool = eventlet.GreenPool(clients)
    cpu_before = meter.start() if meter else {}
    begin = time.monotonic()
    deadline[0] = begin + seconds
    for client in holders:
        pool.spawn(worker, client)
    pool.waitall()
    elapsed = time.monotonic() - begin
    cpu_after = meter.stop() if meter else {}
    for client in holders:
        client.close()
    latencies.sort()
    note = "; ".join(problems)
    if started[0] < limit and elapsed < seconds * 0.95:
        note = (note + "; " if note else "") + "ran out of vouchers"
    return Level(kind, clients, len(latencies), errors[0], round(elapsed, 2),
                 round(len(latencies) / elapsed, 1) if elapsed else 0.0,
                 round(percentile(latencies, 0.50) * 1000, 1),
                 round(percentile(latencies, 0.99) * 1000, 1), note,
                 {name: round((cpu_after[name] - cpu_before[name])
                              * (1 if name.endswith("transactions") else 1000)
                              / max(1, len(latencies)), 2)
                  for name in cpu_after if name in cpu_before})


class RpcClient:
    def __init__(self, amqp_uri: str):
        self.cluster = ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=30)
        self.proxy = self.cluster.start()

    def close(self) -> None:
        self.cluster.stop()


def ping(client: RpcClient) -> bool:
    return client.proxy.bench_echo.ping("x") == "x"


class Tills:
    """The vouchers still to redeem, handed to clients in turn."""

    def __init__(self, port: int, tokens: dict, vouchers: list):
        self.port = port
        self.tokens = tokens
        self.waiting = deque(vouchers)
        self.path = f"/v1/campaigns/{CAMPAIGN_ID}/redemptions"

    def client(self):
        return _TillClient(self)

    def redeem(self, client) -> bool:
        if not self.waiting:
            raise StopIteration
        township, serial = self.waiting.popleft()
        gateway = client.gateway_for(township)
        status, content = gateway.request("POST", self.path, {
            "serial": serial, "check_code": check_code(MAC_KEY.encode(), serial),
            "till_transaction_id": f"T{serial[-8:]}", "lines": LINES,
            "total_fen": TOTAL_FEN}, key=f"bench-{serial}")
        if status != 201 and not getattr(self, "reported", False):
            self.reported = True
            log.warning("a redemption returned HTTP %s: %s", status, content[:300])
        return status == 201


class _TillClient:
    def __init__(self, tills: Tills):
        self.tills = tills
        self.gateways = {}

    def gateway_for(self, township: str) -> Gateway:
        if township not in self.gateways:
            self.gateways[township] = Gateway(self.tills.port,
                                              self.tills.tokens[township])
        return self.gateways[township]

    def close(self) -> None:
        for gateway in self.gateways.values():
            gateway.close()


class CpuMeter:
    """CPU seconds (user + system) of the services, of the PostgreSQL backends of the
    benchmark's databases and of this client process. RabbitMQ is shared with other
    work on the machine, so it is left out.

    Backends come and go with the connection pools, so a green thread samples them
    while a level runs and keeps the last figure of each.
    """

    def __init__(self, processes: list, admin_engine, database_names: list[str],
                 others: dict | None = None):
        self.processes = processes
        self.others = others or {}  # name -> pid of a process not started here
        self.admin_engine = admin_engine
        self.database_names = database_names
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.backends: dict[int, tuple[float, float]] = {}  # pid -> (first, last)
        self._sampler = None

    def _seconds(self, pid: int) -> float | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / self.ticks

    def _sample_backends(self, first: bool = False) -> None:
        with self.admin_engine.connect() as connection:
            pids = connection.exec_driver_sql(
                "SELECT pid FROM pg_stat_activity WHERE datname = ANY(%(names)s)",
                {"names": self.database_names}).scalars().all()
        for pid in pids:
            seconds = self._seconds(pid)
            if seconds is None:
                continue
            start = self.backends.get(pid, (0.0 if not first else seconds,))[0]
            self.backends[pid] = (start, seconds)

    def _sample_forever(self) -> None:
        while True:
            eventlet.sleep(0.2)
            self._sample_backends()

    def transactions(self) -> dict:
        """Committed and rolled back transactions so far of each database."""
        with self.admin_engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT datname, xact_commit + xact_rollback FROM pg_stat_database "
                "WHERE datname = ANY(%(names)s)", {"names": self.database_names}).all()
        return {f"{name.rsplit('_', 1)[-1]} db transactions": count
                for name, count in rows}

    def start(self) -> dict:
        self.backends = {}
        self._sample_backends(first=True)
        self._sampler = eventlet.spawn(self._sample_forever)
        return {**self._processes(), **self.transactions()}

    def stop(self) -> dict:
        self._sampler.kill()
        self._sample_backends()
        eventlet.sleep(1.0)  # PostgreSQL publishes its statistics within a second
        figures = {**self._processes(), **self.transactions()}
        figures["postgres"] = sum(last - first
                                  for first, last in self.backends.values())
        return figures

    def _processes(self) -> dict:
        figures = {}
        for process in self.processes:
            seconds = self._seconds(process.popen.pid)
            if seconds is not None:
                figures[process.group] = figures.get(process.group, 0.0) + seconds
        for name, pid in self.others.items():
            figures[name] = self._seconds(pid)
        own = os.times()
        figures["client"] = own.user + own.system
        figures["postgres"] = 0.0
        return {name: value for name, value in figures.items() if value is not None}


# -- profiling -------------------------------------------------------------------------

def start_profiles(folder: Path, processes: list[Process], seconds: float) -> list:
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        raise BenchmarkError("--profile needs py-spy on PATH (pip install py-spy)")
    folder.mkdir(parents=True, exist_ok=True)
    return [subprocess.Popen(
        [py_spy, "record", "--pid", str(process.popen.pid), "--duration",
         str(max(1, int(seconds))), "--rate", "200", "--format", "raw", "--nonblocking",
         "--output", str(folder / f"{process.name}.txt")],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT) for process in processes]


# -- the machine and the report --------------------------------------------------------

def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu,
            "memory_gib": round(memory_kb / 1024 / 1024, 1),
            "python": platform.python_version(),
            "load_average_before": [round(value, 2) for value in os.getloadavg()]}


def report(levels: list[Level], figures: dict) -> str:
    rows = [f"{'measure':<8} {'clients':>7} {'requests':>8} {'errors':>6} "
            f"{'seconds':>7} {'per s':>8} {'p50 ms':>7} {'p99 ms':>7}"]
    for level in levels:
        rows.append(f"{level.kind:<8} {level.clients:>7} {level.requests:>8} "
                    f"{level.errors:>6} {level.seconds:>7.1f} {level.rate_per_s:>8.1f} "
                    f"{level.p50_ms:>7.1f} {level.p99_ms:>7.1f}"
                    + (f"  ({level.note})" if level.note else ""))
    rows.append("")
    rows.append("CPU milliseconds per request (user + system), and database "
                "transactions per request:")
    for level in levels:
        figures_of_level = level.cpu_ms_per_request or {}
        shares = ", ".join(f"{name} {value:.2f}" for name, value
                           in sorted(figures_of_level.items())
                           if not name.endswith("transactions"))
        counts = ", ".join(f"{name} {value:.1f}" for name, value
                           in sorted(figures_of_level.items())
                           if name.endswith("transactions"))
        rows.append(f"  {level.kind:<7} {level.clients:>3} clients: {shares}; {counts}")
    redeem = [level for level in levels if level.kind == "redeem"]
    met = [level for level in redeem if level.rate_per_s >= TARGET_RATE
           and level.p99_ms < TARGET_P99_MS and level.errors == 0]
    best = max(redeem, key=lambda level: level.rate_per_s, default=None)
    rows.append("")
    rows.append(f"machine: {figures['machine']['nproc']} CPUs, "
                f"{figures['machine']['cpu']}, {figures['machine']['memory_gib']} GiB; "
                "load average before the run "
                f"{figures['machine']['load_average_before']}")
    if best:
        rows.append(f"best redemption level: {best.rate_per_s:.0f}/s with "
                    f"{best.clients} "
                    f"clients, p99 {best.p99_ms:.0f} ms")
    rows.append(f"target {TARGET_RATE}/s with p99 < {TARGET_P99_MS} ms: "
                + (f"met with {', '.join(str(level.clients) for level in met)} clients"
                   if met else "not met"))
    return "\n".join(rows)


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("nameko").setLevel(logging.WARNING)
    args = parse_args(argv)
    figures = {"machine": machine(), "arguments": {
        key: (str(value) if isinstance(value, Path) else value)
        for key, value in vars(args).items()}}
    if not broker.reachable(args.amqp_uri):
        raise BenchmarkError(f"RabbitMQ is not reachable at {args.amqp_uri}")
    with ExitStack() as stack:
        folder = Path(tempfile.mkdtemp(prefix="aixin-bench-"))
        stack.callback(shutil.rmtree, folder, True)
        if args.keep_logs:
            stack.callback(_copy_logs, folder, args.keep_logs)
        amqp_uri = virtual_host(stack, args.amqp_uri)
        urls = databases(stack, args.postgres_url, "redemption", "gateway")
        clock_path = folder / "clock.json"
        FileClock(clock_path).set(SHOPPING_AT)
        port = free_port()
        env = {**os.environ, "AMQP_URI": amqp_uri, "AIXIN_CLOCK": f"file:{clock_path}",
               "REDEMPTION_DATABASE_URL": urls["redemption"],
               "GATEWAY_DATABASE_URL": urls["gateway"],
               "GATEWAY_ADDRESS": f"127.0.0.1:{port}", "AIXIN_ADMIN_TOKEN": ADMIN_TOKEN,
               "VOUCHER_MAC_KEY": MAC_KEY, "AIXIN_DATA_DIR": str(folder / "data"),
               "AIXIN_UPLOAD_DIR": str(folder / "uploads"), "PYTHONUNBUFFERED": "1",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO),
                                                           os.environ.get("PYTHONPATH")]))}
        if args.redemption_workers:
            env["REDEMPTION_MAX_WORKERS"] = str(args.redemption_workers)
        if args.gateway_workers:
            env["GATEWAY_MAX_WORKERS"] = str(args.gateway_workers)
        log.info("starting %d redemption service process(es), the gateway and "
                 "bench_echo", args.redemption_instances)
        redemptions = [start(stack, "redemption" if args.redemption_instances == 1
                             else f"redemption-{number}", [
            "--config", str(REPO / "services/redemption/config.yaml"),
            "services.redemption.service"], env, folder, group="redemption")
            for number in range(1, args.redemption_instances + 1)]
        gateway = start(stack, "gateway", [
            "--config", str(REPO / "gateway/config.yaml"), "gateway.service"], env,
            folder)
        echo = start(stack, "bench_echo", ["--broker", amqp_uri, "benchmarks.rpc_echo"],
                     env, folder)
        processes = [*redemptions, gateway, echo]
        wait_until("the services", lambda: _answers(port, amqp_uri), processes,
                   START_TIMEOUT_S)
        tills = set_up_campaign(port)
        log.info("feeding %d issued vouchers as events", args.vouchers)
        began = time.monotonic()
        vouchers = feed_vouchers(amqp_uri, args.vouchers)
        engine = sqlalchemy.create_engine(urls["redemption"])
        stack.callback(engine.dispose)
        wait_until(f"{args.vouchers} issued vouchers",
                   lambda: issued_count(engine) >= args.vouchers, processes,
                   FEED_TIMEOUT_S)
        figures["feed_seconds"] = round(time.monotonic() - began, 1)
        log.info("vouchers ready in %.1f s", figures["feed_seconds"])

        admin = sqlalchemy.create_engine(args.postgres_url,
                                         isolation_level="AUTOCOMMIT")
        stack.callback(admin.dispose)
        meter = CpuMeter(processes, admin,
                         [urlsplit(url).path.lstrip("/") for url in urls.values()],
                         {"rabbitmq": args.broker_pid} if args.broker_pid else None)
        levels = []
        for clients in args.levels:
            levels.append(run_level("rpc", clients, args.rpc_seconds, 10 ** 9,
                                    lambda: RpcClient(amqp_uri), ping, meter))
            log.info("rpc %s", levels[-1])
        till_work = Tills(port, tills, vouchers)
        warm_up = run_level("warm-up", 4, 60, WARM_UP_REQUESTS, till_work.client,
                            till_work.redeem)
        log.info("warm-up %s", warm_up)
        busiest = max(args.levels)
        for clients in args.levels:
            profilers = []
            if args.profile and clients == busiest:
                profilers = start_profiles(args.profile, [gateway, *redemptions],
                                           args.seconds)
            level = run_level("redeem", clients, args.seconds, args.max_per_level,
                              till_work.client, till_work.redeem, meter)
            for profiler in profilers:
                profiler.wait(timeout=60)
            levels.append(level)
            log.info("redeem %s", level)
        figures["levels"] = [asdict(level) for level in levels]
        figures["redeemed_total"] = _redeemed(engine)
        text = report(levels, figures)
        print(text)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2))
    return 0


def _answers(port: int, amqp_uri: str) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/openapi.json")
        if connection.getresponse().status != 200:
            return False
        connection.close()
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=5) as proxy:
            proxy.redemption.health()
            proxy.bench_echo.ping()
        return True
    except Exception:  # noqa: BLE001 - not up yet
        return False


def _redeemed(engine) -> int:
    with engine.connect() as connection:
        return connection.exec_driver_sql(
            "SELECT count(*) FROM redemptions").scalar_one()


def _copy_logs(folder: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for path in folder.glob("*.log"):
        shutil.copy(path, target / path.name)


def free_port() -> int:
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        sys.exit(2)
