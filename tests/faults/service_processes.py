"""Services of the fault tests as real ``nameko run`` processes, and what they share.

``ServiceProcess`` starts one service with its own log file and can pause
(SIGSTOP), resume, kill and stop it. ``Rig`` gives a test a RabbitMQ virtual host,
a campaign clock file and the environment every process of the test uses.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from kombu import Connection

from aixin.db import REPO_ROOT
from aixin.outbox import BrokerPublisher, build_event

MAC_KEY = "fault-test-check-code-key-0123456789"
ADMIN_TOKEN = "axn_" + "f" * 40


def wait_until(predicate, timeout_s: float, interval_s: float = 0.2, what: str = ""):
    """Poll ``predicate`` until it returns a true value; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for "
                                 f"{what or predicate}")
        time.sleep(interval_s)


class ServiceProcess:
    """One ``nameko run`` process of a service (or of the gateway)."""

    def __init__(self, name: str, env: dict, log_dir: Path, instance: str = "",
                 config_extra: dict | None = None):
        self.name = name
        self.env = env
        self.label = name + (f"-{instance}" if instance else "")
        self.log_path = log_dir / f"{self.label}.log"
        self.config_extra = config_extra or {}
        self.config_path = log_dir / f"{self.label}.config.yaml"
        self.process = None

    @property
    def module(self) -> str:
        return "gateway.service" if self.name == "gateway" else f"services.{self.name}.service"

    def start(self) -> "ServiceProcess":
        base = REPO_ROOT / ("gateway" if self.name == "gateway" else
                            f"services/{self.name}") / "config.yaml"
        text = base.read_text()
        for key, value in self.config_extra.items():
            text += f"\n{key}: {json.dumps(value)}\n"
        self.config_path.write_text(text)
        with open(self.log_path, "ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "nameko", "run", "--config", str(self.config_path),
                 self.module], cwd=REPO_ROOT, env=self.env, stdout=output,
                stderr=subprocess.STDOUT)
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def kill(self) -> None:
        if self.alive():
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if not self.alive():
            return
        self.resume()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Rig:
    """The virtual host, clock, environment and processes of one fault test."""

    def __init__(self, amqp_uri: str, tmp_path: Path, clock_at=None):
        from aixin.clock import FileClock

        self.amqp_uri = amqp_uri
        self.tmp_path = tmp_path
        self.log_dir = tmp_path / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.clock_path = tmp_path / "clock.json"
        self.clock = FileClock(self.clock_path)
        if clock_at is not None:
            self.clock.set(clock_at)
        self.env = dict(os.environ)
        self.env.update({
            "AMQP_URI": amqp_uri, "AIXIN_CLOCK": f"file:{self.clock_path}",
            "AIXIN_DATA_DIR": str(tmp_path / "data"),
            "AIXIN_UPLOAD_DIR": str(tmp_path / "uploads"),
            "VOUCHER_MAC_KEY": MAC_KEY, "AIXIN_ADMIN_TOKEN": ADMIN_TOKEN,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT),
                                                        os.environ.get("PYTHONPATH")])),
            "PYTHONUNBUFFERED": "1",
        })
        self.processes: list[ServiceProcess] = []

    def start(self, name: str, instance: str = "", env: dict | None = None,
              config_extra: dict | None = None) -> ServiceProcess:
        process = ServiceProcess(name, {**self.env, **(env or {})}, self.log_dir,
                                 instance, config_extra)
        self.processes.append(process.start())
        return process

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    @property
    def logs_folder(self) -> Path:
        return self.log_dir

    def logs(self) -> str:
        return "\n".join(f"--- {p.label}\n{p.log()[-4000:]}" for p in self.processes)

    # -- the broker ------------------------------------------------------------------

    def queue_counts(self, queue: str) -> tuple[int, int]:
        """(messages, consumers) of ``queue``; (0, 0) when it does not exist."""
        with Connection(self.amqp_uri) as connection:
            channel = connection.channel()
            try:
                _, messages, consumers = channel.queue_declare(queue=queue, passive=True)
            except Exception:  # noqa: BLE001 - an undeclared queue holds nothing
                return 0, 0
            finally:
                try:
                    channel.close()
                except Exception:  # noqa: BLE001
                    pass
        return messages, consumers

    def wait_consumers(self, queue: str, count: int, timeout_s: float = 90) -> None:
        wait_until(lambda: self.queue_counts(queue)[1] >= count, timeout_s,
                   what=f"{count} consumer(s) on {queue}\n{self.logs()}")

    def publish(self, producer: str, event_type: str, data: dict, occurred_at) -> dict:
        envelope = build_event(event_type, data, occurred_at)
        publisher = BrokerPublisher(self.amqp_uri, producer)
        try:
            publisher.publish(envelope)
        finally:
            publisher.close()
        return envelope

    def publish_raw(self, producer: str, routing_key: str, body: bytes,
                    content_type: str, queue: str) -> None:
        """Publish bytes as they are, to see what a consumer does with a bad message."""
        from kombu import Exchange, Queue

        from aixin import events

        exchange = Exchange(events.exchange_name(producer), type="topic", durable=True)
        with Connection(self.amqp_uri) as connection:
            producer_ = connection.Producer()
            producer_.publish(body, exchange=exchange, routing_key=routing_key,
                              content_type=content_type, content_encoding="binary",
                              declare=[exchange, Queue(queue, exchange=exchange,
                                                       routing_key=routing_key,
                                                       durable=True)],
                              message_id=str(uuid.uuid4()), delivery_mode=2)

    @staticmethod
    def event(event_type: str, data: dict, occurred_at) -> dict:
        return build_event(event_type, data, occurred_at)
