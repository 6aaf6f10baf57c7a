"""A PostgreSQL cluster of a test's own, to pause and kill without touching the shared one.

The cluster lives in a temporary folder and listens on a free loopback port and a
Unix socket in that folder. ``initdb`` refuses to run as root, so as root (in CI) the
cluster belongs to the ``postgres`` system user and is run through ``runuser``.
"""

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def _postgres_bin() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(os.path.join(candidate, "initdb"), os.X_OK):
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivatePostgres:
    """initdb, start, pause, resume and remove one throw-away cluster."""

    def __init__(self):
        self.bin = _postgres_bin()
        if self.bin is None:
            raise RuntimeError("no PostgreSQL server binaries (initdb) found: install "
                               "the postgresql package")
        self.root = Path(tempfile.mkdtemp(prefix="aixin-private-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_user = None
        if os.geteuid() == 0:
            self.as_user = "postgres"
            shutil.chown(self.root, user="postgres")
        os.chmod(self.root, 0o755)
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True, timeout: float = 120):
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_user:
            command = ["runuser", "-u", self.as_user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check,
                              timeout=timeout)

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--no-sync")
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                   f"-c unix_socket_directories={self.root} -c fsync=off "
                   "-c max_connections=100 -c shared_buffers=32MB")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
                  "-o", options, "-w", "-t", "60", "start")

    @property
    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().splitlines()[0])

    def pids(self) -> list[int]:
        """The postmaster and every process it started (backends, checkpointer...)."""
        parent = self.postmaster_pid
        children = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True,
                                  text=True).stdout.split()
        return [parent, *map(int, children)]

    def pause(self) -> None:
        """SIGSTOP the whole cluster: it accepts TCP connections and answers nothing."""
        for pid in self.pids():
            os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        for pid in self.pids():
            os.kill(pid, signal.SIGCONT)

    def create_database(self, name: str) -> str:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                  name)
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def terminate_backends(self, database: str) -> int:
        result = self._run(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-At",
            "-c", "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                  f"WHERE datname = '{database}' AND pid <> pg_backend_pid()")
        return int(result.stdout.strip() or 0)

    def stop(self) -> None:
        try:
            self.resume()
        except (OSError, ValueError, IndexError):
            pass
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop",
                      check=False, timeout=60)
        deadline = time.monotonic() + 30
        while (self.data / "postmaster.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        shutil.rmtree(self.root, ignore_errors=True)
