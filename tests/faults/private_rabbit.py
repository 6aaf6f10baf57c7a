"""A RabbitMQ node of a test's own, to stop and kill without touching the shared broker.

The node gets its own name, a free AMQP port and distribution port, and a temporary
folder for its data, logs and configuration (no plugins). It registers with the
machine's epmd like any other node. The ``rabbitmq-server`` script of the Debian
package switches to the ``rabbitmq`` system user when run as root, so as root the
folder is handed to that user.
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from kombu import Connection

START_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRabbit:
    """One RabbitMQ node: ``start``, ``stop`` (graceful), ``kill`` (SIGKILL), ``remove``."""

    def __init__(self):
        if shutil.which("rabbitmq-server") is None:
            raise RuntimeError("rabbitmq-server is not installed: install the "
                               "rabbitmq-server package to run the broker fault tests")
        self.folder = Path(tempfile.mkdtemp(prefix="aixin-fault-rabbit-"))
        self.node = f"aixin-fault-{uuid.uuid4().hex[:8]}@localhost"
        self.port = free_port()
        self.dist_port = free_port()
        self.amqp_uri = f"amqp://guest:guest@127.0.0.1:{self.port}/"
        (self.folder / "mnesia").mkdir()
        (self.folder / "log").mkdir()
        (self.folder / "enabled_plugins").write_text("[].\n")
        (self.folder / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.port}\n")
        if os.geteuid() == 0:
            self._give_to_rabbitmq_user()
        self.process = None

    def _give_to_rabbitmq_user(self) -> None:
        try:
            user = pwd.getpwnam("rabbitmq")
        except KeyError:
            return
        os.chmod(self.folder, 0o755)
        for path in [self.folder, *self.folder.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid)

    @property
    def env(self) -> dict:
        return {
            **os.environ,
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.folder / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.folder / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.folder / "rabbitmq.conf"),
            "RABBITMQ_PID_FILE": str(self.folder / "rabbitmq.pid"),
        }

    def start(self) -> None:
        """Start the node (on its old data after a stop or kill) and wait for AMQP."""
        (self.folder / "rabbitmq.pid").unlink(missing_ok=True)
        with open(self.folder / "server-output.log", "ab") as output:
            self.process = subprocess.Popen(["rabbitmq-server"], env=self.env,
                                            stdout=output, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rabbitmq-server exited with {self.process.returncode}; "
                                   f"see {self.folder / 'server-output.log'}")
            if self.accepts_connections():
                return
            time.sleep(0.5)
        raise TimeoutError(f"RabbitMQ node {self.node} did not accept AMQP connections "
                           f"within {START_TIMEOUT_S} s; see {self.folder}")

    def accepts_connections(self) -> bool:
        try:
            with Connection(self.amqp_uri, connect_timeout=2) as connection:
                connection.ensure_connection(max_retries=1)
            return True
        except Exception:  # noqa: BLE001 - any failure means not ready yet
            return False

    def _beam_pid(self) -> int | None:
        try:
            return int((self.folder / "rabbitmq.pid").read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def stop(self) -> None:
        """Stop the node gracefully (SIGTERM to the Erlang VM) and wait for it to end."""
        self._signal_and_wait(signal.SIGTERM, 60)

    def kill(self) -> None:
        """Kill the Erlang VM outright with SIGKILL."""
        self._signal_and_wait(signal.SIGKILL, 30)

    def _signal_and_wait(self, signum: int, timeout_s: float) -> None:
        pid = self._beam_pid()
        if pid is not None:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass
        if self.process is not None:
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        deadline = time.monotonic() + timeout_s
        while pid is not None and _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)

    def remove(self) -> None:
        """Kill the node if it runs and delete its folder."""
        self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.folder.exists():
            # A dying Erlang VM may still write a file while the folder is removed.
            time.sleep(2)
            shutil.rmtree(self.folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
