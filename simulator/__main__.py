"""Run a whole campaign on a roster: ``python -m simulator --roster FILE... --out DIR``.

Starts every service that is not running as its own ``nameko run`` process on a fresh
data folder and a RabbitMQ virtual host of its own, plays every actor through the
gateway over a simulated campaign clock, writes the reports and ``summary.json`` to the
output folder, prints a per-township table and stops what it started.
"""

import argparse
import logging
import os
import secrets
import socket
import sys
import uuid
from pathlib import Path

from cryptography.fernet import Fernet

from aixin.clock import FileClock
from aixin.service_config import configure_logging
from simulator import broker
from simulator.campaign import run_campaign
from simulator.dates import at, campaign_dates
from simulator.launcher import service_env, start_system
from simulator.reminder_channels import ReminderSinks, channel_report
from simulator.summary import print_table, write_summary

log = logging.getLogger("simulator")


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    parser.add_argument("--roster", nargs="+", required=True, type=Path,
                        help="roster files (CSV or XLSX) that together make the snapshot")
    parser.add_argument("--district", default="411103",
                        help="six-digit division code of the district (default 411103)")
    parser.add_argument("--snapshot-month", default="2022-12",
                        help="month of the roster snapshot, YYYY-MM (default 2022-12)")
    parser.add_argument("--out", default=Path("out"), type=Path,
                        help="output folder for reports, logs and summary.json")
    parser.add_argument("--seed", default=2022, type=int,
                        help="seed of the simulated behaviour (default 2022)")
    parser.add_argument("--amqp-uri", default=os.environ.get(
        "AMQP_URI", "amqp://guest:guest@localhost:5672/"),
                        help="RabbitMQ to use (default: AMQP_URI or localhost)")
    return parser.parse_args(argv)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main(argv=None) -> int:
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"))
    args = parse_args(argv)
    for path in args.roster:
        if not path.is_file():
            log.error("roster file %s not found: name an existing CSV or XLSX file", path)
            return 2
    try:
        how = broker.ensure_broker(args.amqp_uri)
    except broker.BrokerUnavailable as error:
        print(error, file=sys.stderr)
        return 2
    log.info("RabbitMQ %s at %s", how, args.amqp_uri)

    run_id = uuid.uuid4().hex[:8]
    out = args.out.resolve()
    run_dir = out / "run"
    vhost = f"aixin-demo-{run_id}"
    amqp_uri = broker.create_vhost(args.amqp_uri, vhost)
    if amqp_uri is None:
        log.error("cannot create a RabbitMQ virtual host for this run: enable the "
                  "management plugin (rabbitmq-plugins enable rabbitmq_management) or "
                  "run where rabbitmqctl works")
        return 2
    clock_path = run_dir / f"clock-{run_id}.json"
    FileClock(clock_path).set(at(campaign_dates(args.snapshot_month).funds_due
                                 .replace(day=1), 9))
    admin_token = "axn_" + secrets.token_urlsafe(32)
    port = free_port()
    env = service_env(os.environ, run_dir / f"data-{run_id}", amqp_uri,
                      clock_path, port, {
                          "AIXIN_ADMIN_TOKEN": admin_token,
                          "VOUCHER_MAC_KEY": secrets.token_hex(32),
                          "ROSTER_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                          "ROSTER_HASH_KEY": secrets.token_hex(32),
                      })
    log.info("starting the services (logs in %s)", run_dir / "logs")
    system = None
    sinks = None
    try:
        sinks = ReminderSinks(run_dir / f"reminders-{run_id}")
        env.update(sinks.notify_env())
        system = start_system(env, run_dir / "logs", port)
        summary = run_campaign(system.gateway_url, admin_token, amqp_uri, args, out,
                               system)
        reminders = channel_report(sinks, system.gateway_url, admin_token)
        summary["reminders_by_channel"] = reminders["counts"]
        failures = summary["invariants"]["failures"] + reminders["failures"]
        summary["invariants"] = {"all_hold": not failures, "failures": failures}
    finally:
        if system is not None:
            log.info("stopping the services")
            system.stop()
        if sinks is not None:
            sinks.stop()
        broker.delete_vhost(args.amqp_uri, vhost)
    write_summary(out / "summary.json", summary)
    print_table(summary)
    return 0 if summary["invariants"]["all_hold"] else 1


if __name__ == "__main__":
    sys.exit(main())
