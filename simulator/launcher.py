"""Starting the services as separate `nameko run` processes and stopping them again."""

import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from aixin.db import REPO_ROOT

log = logging.getLogger(__name__)

SERVICES = ("roster", "issuance", "redemption", "settlement", "reporting", "notify")


@dataclass
class RunningSystem:
    gateway_url: str
    env: dict
    log_dir: Path
    processes: dict = field(default_factory=dict)

    def pause(self, name: str) -> None:
        """Freeze one service process (SIGSTOP): its queues fill while it lags."""
        self.processes[name].send_signal(signal.SIGSTOP)

    def resume(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGCONT)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                # A paused process handles SIGTERM only once it runs again.
                process.send_signal(signal.SIGCONT)
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for name, process in self.processes.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("killing %s: it did not stop within 20 s", name)
                process.kill()


def _module_and_config(name: str) -> tuple[str, Path]:
    if name == "gateway":
        return "gateway.service", REPO_ROOT / "gateway" / "config.yaml"
    return f"services.{name}.service", REPO_ROOT / "services" / name / "config.yaml"


def start_process(system: RunningSystem, name: str,
                  extra_env: dict | None = None) -> subprocess.Popen:
    """Start one service (or the gateway) as ``nameko run``, appending to its log.

    ``extra_env`` adds variables for this process only; the fault tests use it to give
    one service its own clock or an armed crash point.
    """
    module, config = _module_and_config(name)
    env = {**system.env, **(extra_env or {})}
    with open(system.log_dir / f"{name}.log", "ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "nameko", "run", "--config", str(config), module],
            cwd=REPO_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    system.processes[name] = process
    return process


def start_system(env: dict, log_dir: Path, gateway_port: int,
                 ready_timeout_s: float = 120.0,
                 extra_env: dict | None = None) -> RunningSystem:
    """Start every service and the gateway, and wait until all answer.

    ``extra_env`` maps a process name to variables for that process only.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    system = RunningSystem(gateway_url=f"http://127.0.0.1:{gateway_port}", env=env,
                           log_dir=log_dir)
    for name in (*SERVICES, "gateway"):
        start_process(system, name, (extra_env or {}).get(name))
    try:
        wait_until_ready(system, ready_timeout_s)
    except BaseException:
        system.stop()
        raise
    return system


def wait_until_ready(system: RunningSystem, timeout_s: float) -> None:
    """Poll the gateway's health route until every service answers over RPC."""
    deadline = time.monotonic() + timeout_s
    last = "no answer yet"
    while time.monotonic() < deadline:
        for name, process in system.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"service {name} exited with code {process.returncode}; "
                                   f"see {system.log_dir / (name + '.log')}")
        try:
            response = requests.get(f"{system.gateway_url}/health", timeout=5)
            body = response.json()
            if response.status_code == 200 and body.get("status") == "ok":
                return
            last = body
        except (requests.RequestException, ValueError) as error:
            last = str(error)
        time.sleep(0.5)
    raise TimeoutError(f"services not ready after {timeout_s:.0f} s: {last}; "
                       f"logs in {system.log_dir}")


def service_env(base: dict, data_dir: Path, amqp_uri: str, clock_path: Path,
                gateway_port: int, secrets: dict) -> dict:
    env = dict(base)
    env.update({
        "AIXIN_DATA_DIR": str(data_dir),
        "AMQP_URI": amqp_uri,
        "AIXIN_CLOCK": f"file:{clock_path}",
        "GATEWAY_ADDRESS": f"127.0.0.1:{gateway_port}",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT),
                                                    base.get("PYTHONPATH")])),
        "PYTHONUNBUFFERED": "1",
        **secrets,
    })
    return env
