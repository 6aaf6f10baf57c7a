"""Reporting and notify in-process on SQLite, fed the small campaign of two townships,
plus the local SMTP server and webhook receiver that the channel tests deliver to."""

import json
import mailbox
import socket
import subprocess
import sys
import time
from email import policy
from email.parser import BytesParser

import eventlet
import eventlet.wsgi
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import select

from aixin import events
from aixin.clock import FileClock
from aixin.db import Database
from aixin.outbox import BrokerPublisher, build_event
from services.notify.models import deliveries, delivery_attempts
from services.notify.service import NotifyService
from services.reporting.service import ReportingService
from tests.integration.reporting.campaign_events import CAMPAIGN_ID, at, campaign_events

ADMIN = {"role": "admin", "scope": None, "name": "admin"}

# Hand-outs and redemptions only up to mid-January, so reminders have work to do.
EARLY_EVENTS = [item for item in campaign_events()
                if item[0] not in ("voucher_issued", "voucher_redeemed",
                                   "redemptions_audited", "township_cleared")
                or item[1].get("serial") in ("E1", "W1")]


def wait_for(predicate, timeout: float = 30.0):
    with eventlet.Timeout(timeout):
        while True:
            value = predicate()
            if value:
                return value
            eventlet.sleep(0.1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_campaign(runner_factory, amqp_uri: str, tmp_path, extra_config: dict) -> dict:
    """Start reporting and notify, publish the campaign's events, wait for figures."""
    clock = FileClock(tmp_path / "clock.json")
    clock.set(at(1, 9, 8))
    config = {"AMQP_URI": amqp_uri, "AIXIN_CLOCK": f"file:{clock.path}",
              "REPORTING_DATABASE_URL": f"sqlite:///{tmp_path / 'reporting.db'}",
              "NOTIFY_DATABASE_URL": f"sqlite:///{tmp_path / 'notify.db'}",
              "NOTIFY_REPORTING_TIMEOUT_S": 5, **extra_config}
    runner_factory(config, ReportingService).start()
    notify_runner = runner_factory(config, NotifyService)
    notify_runner.start()
    publishers = {}
    for event_type, data in EARLY_EVENTS:
        producer = events.spec_of(event_type).producer
        publisher = publishers.setdefault(producer, BrokerPublisher(amqp_uri, producer))
        publisher.publish(build_event(event_type, data, at(1, 9, 8)))
    for publisher in publishers.values():
        publisher.close()
    with ServiceRpcProxy("notify", config) as notify:
        wait_for(lambda: len(notify.schedule(ADMIN, CAMPAIGN_ID)["occurrences"]) > 0)
    with ServiceRpcProxy("reporting", config) as reporting:
        wait_for(lambda: reporting.campaign_summary(ADMIN, CAMPAIGN_ID)["totals"][
            "issued"] == 2)
    return {"config": config, "clock": clock, "notify": notify_runner,
            "url": config["NOTIFY_DATABASE_URL"]}


def send_due(config: dict) -> dict:
    with ServiceRpcProxy("notify", config) as notify:
        return notify.send_due_reminders()


def delivery_rows(url: str, channel: str) -> list:
    database = Database(url)
    with database.reading() as session:
        rows = session.execute(select(deliveries).where(deliveries.c.channel == channel)
                               .order_by(deliveries.c.created_at)).all()
    database.dispose()
    return rows


def attempt_outcomes(url: str, delivery_id: str) -> list[str]:
    database = Database(url)
    with database.reading() as session:
        outcomes = session.execute(
            select(delivery_attempts.c.outcome)
            .where(delivery_attempts.c.delivery_id == delivery_id)
            .order_by(delivery_attempts.c.id)).scalars().all()
    database.dispose()
    return list(outcomes)


class SmtpSink:
    """aiosmtpd in a child process, storing every message it accepts in a Maildir.

    A child process keeps aiosmtpd's asyncio loop away from the eventlet-patched
    test process.
    """

    def __init__(self, folder):
        self.folder = folder
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}",
             "-c", "aiosmtpd.handlers.Mailbox", str(folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("aiosmtpd did not start: "
                                       + self.process.stderr.read().decode())
                eventlet.sleep(0.2)

    def messages(self) -> list:
        parser = BytesParser(policy=policy.default)
        box = mailbox.Maildir(self.folder, factory=None, create=False)
        return [parser.parsebytes(box.get_bytes(key)) for key in sorted(box.keys())]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process.stderr.close()


class WebhookReceiver:
    """A local HTTP server that answers each request with the next planned behaviour.

    ``plan`` lists, per request in order, an HTTP status or ``("sleep", seconds)``
    before a 200; once the plan is used up every request gets 200.
    """

    def __init__(self, plan):
        self.plan = list(plan)
        self.requests = []
        self.socket = eventlet.listen(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.thread = eventlet.spawn(eventlet.wsgi.server, self.socket, self.app,
                                     log_output=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/aixin"

    def app(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        step = self.plan.pop(0) if self.plan else 200
        record = {"body": body, "received_at": time.time(),
                  "timestamp": environ.get("HTTP_X_AIXIN_TIMESTAMP"),
                  "signature": environ.get("HTTP_X_AIXIN_SIGNATURE"),
                  "delivery": environ.get("HTTP_X_AIXIN_DELIVERY"),
                  "answered": "slow" if isinstance(step, tuple) else step}
        self.requests.append(record)
        status = 200
        if isinstance(step, tuple):
            # Answers only after the sender's timeout, which counts it as failed.
            eventlet.sleep(step[1])
        else:
            status = step
        start_response(f"{status} {'OK' if status == 200 else 'Unavailable'}",
                       [("Content-Type", "application/json")])
        return [json.dumps({"status": status}).encode()]

    def stop(self) -> None:
        self.thread.kill()
        self.socket.close()
