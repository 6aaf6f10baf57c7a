"""Benchmark a full-size roster import and publication on PostgreSQL.

Writes a CSV roster of ``--persons`` persons across ``--townships`` generated
townships (see ``roster_scale_data``), starts the roster and issuance services as
``nameko run`` processes on a RabbitMQ virtual host and two PostgreSQL databases that
this run creates, then measures:

- the wall time of the ``import_roster`` RPC and the roster process's peak resident
  memory (``VmHWM`` of ``/proc/<pid>/status``);
- the time from the ``publish`` RPC until the issuance database contains every
  beneficiary;
- a raw PostgreSQL ``COPY ... FROM STDIN`` of the imported ``persons`` rows (same
  columns and indexes) into an empty table, and the ratio of the import time to it;
  and a COPY into a table without indexes followed by building the indexes, the
  way the import itself stores a snapshot on PostgreSQL, with that ratio too.

Everything the run creates is removed at the end, also after a failure. Run from the
repository root::

    .venv/bin/python -m benchmarks.roster_scale              # 1,000,000 persons
    .venv/bin/python -m benchmarks.roster_scale --persons 100000
"""

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402 - eventlet must patch the standard library first
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import quote, urlsplit, urlunsplit  # noqa: E402

import psycopg2  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from aixin.clock import clock_from_spec  # noqa: E402
from aixin.outbox import BrokerPublisher, build_event  # noqa: E402
from benchmarks import roster_scale_data as data  # noqa: E402

log = logging.getLogger("roster_scale")

REPO = Path(__file__).resolve().parents[1]
NAMEKO = Path(sys.executable).with_name("nameko")
CAMPAIGN_ID = "411103-2022-12"
CAMPAIGN = {
    "campaign_id": CAMPAIGN_ID, "campaign_no": 1, "name": "郾城区爱心消费券",
    "district_code": data.DISTRICT_CODE, "district_name": "郾城区",
    "face_value_fen": 30000, "snapshot_month": "2022-12", "funds_due": "2023-01-13",
    "spring_festival": "2023-01-22", "redemption_deadline": "2023-02-28",
    "joint_audit_date": "2023-03-06", "clearing_deadline": "2023-03-31",
    "spare_share_percent": 0, "cash_equivalent_categories": ["cash"],
}
ACTOR = {"role": "civil_affairs", "scope": None, "name": "roster benchmark",
         "token_id": None, "correlation_id": None}
# Targets for 1,000,000 persons on a 2-core machine.
IMPORT_TARGET_S = 60
MEMORY_TARGET_MB = 300
DELIVERY_TARGET_S = 120
START_TIMEOUT_S = 60
# The indexes of persons, built after a COPY into a table without them.
COPY_INDEXES = (
    "ALTER TABLE persons_copy ADD PRIMARY KEY (snapshot_id, beneficiary_id)",
    "CREATE INDEX ON persons_copy (snapshot_id, township_code, beneficiary_id)",
    "CREATE UNIQUE INDEX ON persons_copy (snapshot_id, id_hash)",
)
POLL_INTERVAL_S = 0.5


class BenchmarkError(RuntimeError):
    """A step of the benchmark failed; the message names the step and the cause."""


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000,
                        help="persons in the generated roster (default 1,000,000)")
    parser.add_argument("--townships", type=int, default=2000,
                        help="generated townships of the district (default 2,000)")
    parser.add_argument("--seed", type=int, default=2022, help="random seed of the roster")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="ROSTER_BATCH_SIZE: beneficiaries per roster_published "
                             "event (default: the roster service's own default)")
    parser.add_argument("--timeout", type=float, default=900,
                        help="seconds the import, and then the delivery, may take "
                             "before the run stops (default 900)")
    parser.add_argument("--postgres-url",
                        default=os.environ.get("TEST_POSTGRES_URL",
                                               "postgresql://postgres@127.0.0.1:5432/postgres"),
                        help="PostgreSQL server; the run creates and drops its databases")
    parser.add_argument("--amqp-uri",
                        default=os.environ.get("AMQP_URI",
                                               "amqp://guest:guest@localhost:5672/"),
                        help="RabbitMQ server; the run creates and deletes a virtual host")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep-logs", type=Path,
                        help="copy the services' logs to this folder at the end")
    return parser.parse_args(argv)


# -- resources the run creates ---------------------------------------------------------

def _rabbitmqctl(*args: str) -> None:
    if shutil.which("rabbitmqctl") is None:
        raise BenchmarkError("rabbitmqctl not found: it creates the benchmark's "
                             "RabbitMQ virtual host")
    result = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True,
                            text=True, timeout=120)
    if result.returncode != 0:
        raise BenchmarkError(f"rabbitmqctl {' '.join(args)} failed: {result.stderr}")


def virtual_host(stack: ExitStack, amqp_uri: str) -> str:
    """Create a virtual host, delete it when the run ends, and return its URI."""
    vhost = f"aixin-bench-{uuid.uuid4().hex[:10]}"
    user = urlsplit(amqp_uri).username or "guest"
    _rabbitmqctl("add_vhost", vhost)
    stack.callback(_rabbitmqctl, "delete_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
    return urlunsplit(urlsplit(amqp_uri)._replace(path="/" + quote(vhost, safe="")))


def database(stack: ExitStack, server_url: str, label: str) -> str:
    """Create an empty database, drop it when the run ends, and return its URL."""
    name = f"aixin_bench_{uuid.uuid4().hex[:10]}_{label}"
    _admin(server_url, f'CREATE DATABASE "{name}"')
    stack.callback(_admin, server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return urlunsplit(urlsplit(server_url)._replace(path="/" + name))


def _admin(server_url: str, statement: str) -> None:
    connection = psycopg2.connect(server_url)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def start_service(stack: ExitStack, name: str, env: dict, logs: Path):
    """Start ``nameko run`` for one service; stop it when the run ends."""
    log_file = (logs / f"{name}.log").open("w")
    stack.callback(log_file.close)
    process = subprocess.Popen(
        [str(NAMEKO), "run", "--config", f"services/{name}/config.yaml",
         f"services.{name}.service"],
        cwd=REPO, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    stack.callback(_stop, process)
    return process


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- measurements ----------------------------------------------------------------------

def peak_memory_mb(pid: int) -> float:
    """Return the peak resident set size (``VmHWM``) of a process, in MiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise BenchmarkError(f"no VmHWM in /proc/{pid}/status")


def wait_until(predicate, timeout: float, what: str, processes=()):
    deadline = time.monotonic() + timeout
    while True:
        for process in processes:
            if process.poll() is not None:
                raise BenchmarkError(f"a service exited with {process.returncode} "
                                     f"while waiting for {what}: see its log")
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchmarkError(f"timed out after {timeout:.0f} s waiting for {what}")
        eventlet.sleep(POLL_INTERVAL_S)


def count_rows(url: str, query: str, *params) -> int:
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            try:
                cursor.execute(query, params)
            except psycopg2.errors.UndefinedTable:
                return 0  # the service has not migrated its database yet
            return cursor.fetchone()[0]
    finally:
        connection.close()


def time_raw_copy(roster_url: str, snapshot_id: str,
                  folder: Path) -> tuple[float, float, int]:
    """Copy the snapshot's ``persons`` rows into empty twin tables with COPY.

    Returns the seconds of ``COPY persons_copy FROM STDIN`` into a twin with the
    same columns, primary key and indexes as ``persons``; the seconds of a COPY into
    a twin without indexes followed by building the same three indexes, as the
    import does; and the rows copied. Exporting the rows to a file is not timed.
    """
    export = folder / "persons.copy"
    # COPY needs a blocking connection: no eventlet wait callback in this process.
    psycopg2.extensions.set_wait_callback(None)
    connection = psycopg2.connect(roster_url)
    try:
        with connection.cursor() as cursor, export.open("wb") as handle:
            cursor.copy_expert(
                "COPY (SELECT * FROM persons WHERE snapshot_id = "
                f"'{snapshot_id}') TO STDOUT", handle)
            cursor.execute("CREATE TABLE persons_copy (LIKE persons INCLUDING ALL)")
        connection.commit()
        with connection.cursor() as cursor, export.open("rb") as handle:
            started = time.perf_counter()
            cursor.copy_expert("COPY persons_copy FROM STDIN", handle)
            connection.commit()
            seconds = time.perf_counter() - started
            cursor.execute("SELECT count(*) FROM persons_copy")
            copied = cursor.fetchone()[0]
            cursor.execute("DROP TABLE persons_copy")
        connection.commit()
        with connection.cursor() as cursor, export.open("rb") as handle:
            cursor.execute("CREATE TABLE persons_copy (LIKE persons)")
            connection.commit()
            started = time.perf_counter()
            cursor.copy_expert("COPY persons_copy FROM STDIN", handle)
            for statement in COPY_INDEXES:
                cursor.execute(statement)
            connection.commit()
            then_indexed = time.perf_counter() - started
            cursor.execute("DROP TABLE persons_copy")
        connection.commit()
    finally:
        connection.close()
        export.unlink(missing_ok=True)
    return seconds, then_indexed, copied


# -- the run ---------------------------------------------------------------------------

def run(args, stack: ExitStack) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="aixin-roster-bench-"))
    stack.callback(shutil.rmtree, folder, ignore_errors=True)
    uploads = folder / "uploads"
    uploads.mkdir()
    figures = {"persons": args.persons, "townships": args.townships}

    override = folder / "townships.csv"
    data.write_divisions_override(override, args.townships)
    roster_file = uploads / "roster.csv"
    started = time.perf_counter()
    figures["file_bytes"] = data.write_roster_csv(roster_file, args.persons,
                                                  args.townships, args.seed)
    figures["generate_s"] = time.perf_counter() - started
    log.info("wrote %s: %d persons, %.1f MB in %.1f s", roster_file.name, args.persons,
             figures["file_bytes"] / 1e6, figures["generate_s"])

    amqp_uri = virtual_host(stack, args.amqp_uri)
    roster_url = database(stack, args.postgres_url, "roster")
    issuance_url = database(stack, args.postgres_url, "issuance")
    env = {
        **os.environ, "AMQP_URI": amqp_uri, "AIXIN_CLOCK": "system",
        "AIXIN_DATA_DIR": str(folder / "data"), "AIXIN_UPLOAD_DIR": str(uploads),
        "AIXIN_DIVISIONS_OVERRIDE": str(override),
        "ROSTER_DATABASE_URL": roster_url, "ISSUANCE_DATABASE_URL": issuance_url,
        "ROSTER_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ROSTER_HASH_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
        "VOUCHER_MAC_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
    }
    if args.batch_size:
        env["ROSTER_BATCH_SIZE"] = str(args.batch_size)
    outcome = {"succeeded": False}
    stack.callback(lambda: outcome["succeeded"] or _keep_logs(folder))
    if args.keep_logs:
        stack.callback(_copy_logs, folder, args.keep_logs)
    roster = start_service(stack, "roster", env, folder)
    issuance = start_service(stack, "issuance", env, folder)
    services = (roster, issuance)

    config = {"AMQP_URI": amqp_uri}
    with ClusterRpcProxy(config, timeout=args.timeout) as rpc:
        wait_until(lambda: _healthy(rpc.roster) and _healthy(rpc.issuance),
                   START_TIMEOUT_S, "the services to start", services)
        publisher = BrokerPublisher(amqp_uri, "redemption")
        publisher.publish(build_event("campaign_created", CAMPAIGN,
                                      clock_from_spec("system").now()))
        publisher.close()
        wait_until(lambda: count_rows(roster_url, "SELECT count(*) FROM campaigns"),
                   START_TIMEOUT_S, "the roster service to store the campaign",
                   services)
        figures["roster_start_mb"] = peak_memory_mb(roster.pid)

        upload = {"filename": roster_file.name, "path": str(roster_file)}
        started = time.perf_counter()
        report = rpc.roster.import_roster(ACTOR, CAMPAIGN_ID, {"files": [upload]},
                                          uuid.uuid4().hex)
        figures["import_s"] = time.perf_counter() - started
        figures["import_peak_mb"] = peak_memory_mb(roster.pid)
        figures["beneficiaries"] = report["beneficiaries"]
        figures["rejected_rows"] = report["rejected_rows"]
        log.info("imported %d beneficiaries in %.1f s, roster peak memory %.0f MiB",
                 report["beneficiaries"], figures["import_s"], figures["import_peak_mb"])
        if report["beneficiaries"] != args.persons:
            raise BenchmarkError(f"the import stored {report['beneficiaries']} "
                                 f"beneficiaries, expected {args.persons}")

        started = time.perf_counter()
        completed = rpc.roster.publish(ACTOR, CAMPAIGN_ID, report["snapshot_id"], {},
                                       uuid.uuid4().hex)
        figures["publish_rpc_s"] = time.perf_counter() - started
        figures["batches"] = completed["batch_count"]
        log.info("publish committed %d batches in %.1f s", completed["batch_count"],
                 figures["publish_rpc_s"])
        expected = completed["beneficiary_count"]
        wait_until(
            lambda: count_rows(issuance_url, "SELECT count(*) FROM beneficiaries "
                               "WHERE campaign_id = %s", CAMPAIGN_ID) >= expected,
            args.timeout, "issuance to store every beneficiary", services)
        figures["delivered_s"] = time.perf_counter() - started
        figures["peak_mb"] = peak_memory_mb(roster.pid)
        figures["issuance_peak_mb"] = peak_memory_mb(issuance.pid)
        log.info("issuance stores all %d beneficiaries %.1f s after publishing began",
                 expected, figures["delivered_s"])

    figures["copy_s"], figures["copy_then_index_s"], copied = time_raw_copy(
        roster_url, report["snapshot_id"], folder)
    if copied != args.persons:
        raise BenchmarkError(f"COPY loaded {copied} rows, expected {args.persons}")
    figures["import_to_copy"] = figures["import_s"] / figures["copy_s"]
    figures["import_to_copy_then_index"] = (figures["import_s"]
                                            / figures["copy_then_index_s"])
    outcome["succeeded"] = True
    return figures


def _healthy(service) -> bool:
    try:
        return service.health()["status"] == "ok"
    except Exception:  # noqa: BLE001 - not started yet: the RPC times out or fails
        return False


def _keep_logs(folder: Path) -> None:
    """Copy the service logs of a failed run next to the working directory."""
    kept = Path(tempfile.gettempdir()) / f"{folder.name}-logs"
    kept.mkdir(exist_ok=True)
    for log_file in folder.glob("*.log"):
        shutil.copy(log_file, kept / log_file.name)
    print(f"service logs kept in {kept}", file=sys.stderr)


def _copy_logs(folder: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for log_file in folder.glob("*.log"):
        shutil.copy(log_file, target / log_file.name)


def print_figures(figures: dict) -> None:
    full_size = figures["persons"] >= 1_000_000
    rows = [
        ("persons / townships", f"{figures['persons']:,} / {figures['townships']:,}"),
        ("roster file", f"{figures['file_bytes'] / 1e6:.1f} MB CSV"),
        ("import wall time", f"{figures['import_s']:.1f} s"
         + (f" (target <= {IMPORT_TARGET_S} s)" if full_size else "")),
        ("roster peak memory after import",
         f"{figures['import_peak_mb']:.0f} MiB (at start {figures['roster_start_mb']:.0f}"
         + (f"; target < {MEMORY_TARGET_MB} MB)" if full_size else ")")),
        ("raw COPY of the same rows", f"{figures['copy_s']:.1f} s"),
        ("import / COPY", f"{figures['import_to_copy']:.1f}x"),
        ("COPY without indexes, then the indexes",
         f"{figures['copy_then_index_s']:.1f} s"),
        ("import / (COPY, then indexes)",
         f"{figures['import_to_copy_then_index']:.1f}x"),
        ("publish RPC (outbox commit)",
         f"{figures['publish_rpc_s']:.1f} s, {figures['batches']:,} batches"),
        ("publish to all known by issuance", f"{figures['delivered_s']:.1f} s"
         + (f" (target <= {DELIVERY_TARGET_S} s)" if full_size else "")),
        ("roster / issuance peak memory",
         f"{figures['peak_mb']:.0f} / {figures['issuance_peak_mb']:.0f} MiB"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    # The health checks of services still starting close RPC channels noisily.
    logging.getLogger("amqp").setLevel(logging.ERROR)
    with ExitStack() as stack:
        try:
            figures = run(args, stack)
        except BenchmarkError as error:
            print(f"roster benchmark failed: {error}", file=sys.stderr)
            return 1
    print_figures(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
