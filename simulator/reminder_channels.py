"""Local receivers for the demo's email and webhook reminders, and their counts.

The simulator starts an SMTP sink (aiosmtpd, storing a Maildir) and a webhook receiver
that checks each request's HMAC signature, both as child processes on 127.0.0.1, and
points every recipient's email and webhook at them. Child processes keep them apart
from the eventlet-patched process that the end-to-end tests run the simulator in.

Run as ``python -m simulator.reminder_channels PORT LOG`` this module is the webhook
receiver: it appends one JSON line per request to LOG.
"""

import json
import mailbox
import os
import secrets
import socket
import subprocess
import sys
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import requests

from aixin.db import REPO_ROOT
from services.notify.webhook import (DELIVERY_HEADER, SIGNATURE_HEADER,
                                     TIMESTAMP_HEADER, verify_signature)

RECIPIENT_TYPES = ("bureau", "township", "village", "merchant")
CHANNELS = ("inbox", "email", "webhook")
SETTLED = ("sent", "skipped")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{what} did not listen on 127.0.0.1:{port} within 30 s")


class ReminderSinks:
    """The running SMTP sink and webhook receiver of one simulated campaign."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.maildir = folder / "maildir"
        self.webhook_log = folder / "webhooks.jsonl"
        self.secret = secrets.token_hex(32)
        self.smtp_port = _free_port()
        self.webhook_port = _free_port()
        self.processes = []
        self.processes.append(subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-l",
             f"127.0.0.1:{self.smtp_port}", "-c", "aiosmtpd.handlers.Mailbox",
             str(self.maildir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self.processes.append(subprocess.Popen(
            [sys.executable, "-m", "simulator.reminder_channels", str(self.webhook_port),
             str(self.webhook_log)], env={**os.environ, "SINK_WEBHOOK_SECRET": self.secret},
            cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        try:
            _wait_for_port(self.smtp_port, self.processes[0], "the SMTP sink")
            _wait_for_port(self.webhook_port, self.processes[1], "the webhook receiver")
        except BaseException:
            self.stop()
            raise

    def notify_env(self) -> dict:
        """Return the notify service's settings that send to these sinks."""
        recipients = {"default_channels": ["inbox"]}
        for kind in RECIPIENT_TYPES:
            recipients[kind] = {
                "channels": list(CHANNELS),
                "email": f"{kind}-{{code}}@demo.aixin.invalid",
                "webhook": f"http://127.0.0.1:{self.webhook_port}/hooks/{kind}"}
        return {"NOTIFY_SMTP_HOST": "127.0.0.1", "NOTIFY_SMTP_PORT": str(self.smtp_port),
                "NOTIFY_SMTP_SENDER": "aixin@demo.aixin.invalid",
                "NOTIFY_WEBHOOK_SECRET": self.secret,
                "NOTIFY_RECIPIENTS": json.dumps(recipients)}

    def received(self) -> dict:
        """Return the delivery ids that arrived per channel, repeats included."""
        emails = []
        if self.maildir.exists():
            box = mailbox.Maildir(self.maildir, create=False)
            emails = [str(message["X-Aixin-Delivery-Id"]) for message in box]
        hooks = []
        if self.webhook_log.exists():
            for line in self.webhook_log.read_text().splitlines():
                record = json.loads(line)
                if record["valid"]:
                    hooks.append(record["delivery"])
        return {"email": emails, "webhook": hooks}

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()


def delivery_log(gateway_url: str, admin_token: str) -> list:
    """Return every row of notify's delivery log, read through the gateway."""
    rows, offset = [], 0
    headers = {"Authorization": f"Bearer {admin_token}"}
    while True:
        page = requests.get(f"{gateway_url}/v1/reminders/deliveries", headers=headers,
                            params={"limit": 500, "offset": offset}, timeout=30)
        page.raise_for_status()
        batch = page.json()["deliveries"]
        rows += batch
        if len(batch) < 500:
            return rows
        offset += 500


def channel_report(sinks: ReminderSinks, gateway_url: str, admin_token: str,
                   wait_s: float = 30.0) -> dict:
    """Count the reminders per channel and check each arrived exactly once.

    Waits up to ``wait_s`` for deliveries still pending, because notify's timer may
    be sending the last ones. A reminder that a newer one of its kind superseded
    (after the simulation moved the clock by days) is skipped, not sent.
    """
    deadline = time.monotonic() + wait_s
    rows = delivery_log(gateway_url, admin_token)
    while any(row["status"] not in SETTLED for row in rows) \
            and time.monotonic() < deadline:
        time.sleep(1)
        rows = delivery_log(gateway_url, admin_token)
    failures = [f"reminder {row['kind']} {row['occurrence_date']} to {row['recipient']} "
                f"via {row['channel']} is {row['status']}: {row['last_error']}"
                for row in rows if row["status"] not in SETTLED]
    sent = {channel: {row["delivery_id"] for row in rows
                      if row["channel"] == channel and row["status"] == "sent"}
            for channel in CHANNELS}
    received = sinks.received()
    for channel, ids in received.items():
        repeats = sorted(key for key, count in Counter(ids).items() if count > 1)
        if repeats:
            failures.append(f"{channel}: {len(repeats)} reminders arrived more than once")
        if set(ids) != sent[channel]:
            failures.append(f"{channel}: {len(sent[channel])} sent but "
                            f"{len(set(ids))} distinct reminders arrived")
    messages = Counter((row["kind"], row["occurrence_date"], row["recipient"])
                       for row in rows)
    partial = [key for key, count in messages.items() if count != len(CHANNELS)]
    if partial:
        failures.append(f"{len(partial)} reminders did not go out on every channel, "
                        f"e.g. {partial[0]}")
    return {"counts": {"messages": len(messages),
                       "skipped": sum(row["status"] == "skipped" for row in rows),
                       "sent": {channel: len(ids) for channel, ids in sent.items()},
                       "received": {channel: len(ids)
                                    for channel, ids in received.items()}},
            "failures": failures}


class _WebhookHandler(BaseHTTPRequestHandler):
    secret = b""
    log_path = Path()

    def do_POST(self):  # noqa: N802 - the name http.server dispatches to
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        valid = verify_signature(self.secret, self.headers.get(TIMESTAMP_HEADER), body,
                                 self.headers.get(SIGNATURE_HEADER), now_s=time.time())
        record = {"path": self.path, "delivery": self.headers.get(DELIVERY_HEADER),
                  "valid": valid}
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")
        self.send_response(204 if valid else 401)
        self.end_headers()

    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        pass


def serve_webhooks(port: int, log_path: Path) -> None:
    _WebhookHandler.secret = os.environ["SINK_WEBHOOK_SECRET"].encode()
    _WebhookHandler.log_path = log_path
    # One request at a time, so the log lines never interleave.
    with HTTPServer(("127.0.0.1", port), _WebhookHandler) as server:
        server.serve_forever()


if __name__ == "__main__":
    serve_webhooks(int(sys.argv[1]), Path(sys.argv[2]))
