"""Finding or starting the RabbitMQ broker and giving each run a virtual host of its own.

A run uses its own virtual host, so durable queues left behind by an earlier run can
never feed it stale events. The host is created through the management API when it is
enabled, otherwise with rabbitmqctl.
"""

import logging
import shutil
import socket
import subprocess
import time
from urllib.parse import quote, urlsplit, urlunsplit

import requests

log = logging.getLogger(__name__)

HOW_TO_GET_A_BROKER = """\
RabbitMQ is not reachable at {uri}.
Start one of these and run the command again:
  - an installed server:   rabbitmq-server -detached
  - Debian or Ubuntu:      apt-get install rabbitmq-server && rabbitmq-server -detached
  - Docker:                docker compose up -d broker
or point AMQP_URI at a running broker (amqp://user:password@host:5672/)."""


class BrokerUnavailable(RuntimeError):
    pass


def reachable(uri: str, timeout: float = 2.0) -> bool:
    parts = urlsplit(uri)
    try:
        with socket.create_connection((parts.hostname or "localhost", parts.port or 5672),
                                      timeout=timeout):
            return True
    except OSError:
        return False


def ensure_broker(uri: str, wait_s: float = 60.0) -> str:
    """Return how the broker was found: running, started locally or started in Docker."""
    if reachable(uri):
        return "running"
    host = urlsplit(uri).hostname or "localhost"
    if host not in ("localhost", "127.0.0.1", "::1"):
        raise BrokerUnavailable(HOW_TO_GET_A_BROKER.format(uri=uri))
    for how, command in _start_commands():
        log.info("starting RabbitMQ with: %s", " ".join(command))
        if subprocess.run(command, capture_output=True, timeout=120).returncode != 0:
            continue
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if reachable(uri):
                return how
            time.sleep(1)
    raise BrokerUnavailable(HOW_TO_GET_A_BROKER.format(uri=uri))


def _start_commands():
    if shutil.which("rabbitmq-server"):
        yield "started rabbitmq-server", ["rabbitmq-server", "-detached"]
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "info"], capture_output=True,
                                 timeout=20).returncode == 0:
        yield "started docker compose broker", [docker, "compose", "up", "-d", "broker"]


def _management(uri: str, method: str, path: str, management_url: str) -> bool:
    parts = urlsplit(uri)
    try:
        response = requests.request(method, management_url + path, timeout=5,
                                    auth=(parts.username or "guest",
                                          parts.password or "guest"),
                                    json={} if method == "PUT" else None)
    except requests.RequestException:
        return False
    return response.status_code < 300


def create_vhost(uri: str, vhost: str,
                 management_url: str = "http://127.0.0.1:15672") -> str | None:
    """Create ``vhost`` and return the AMQP URI for it, or None when that is impossible."""
    user = urlsplit(uri).username or "guest"
    encoded = quote(vhost, safe="")
    created = _management(uri, "PUT", f"/api/vhosts/{encoded}", management_url) and \
        _management(uri, "PUT", f"/api/permissions/{encoded}/{user}", management_url)
    if not created and shutil.which("rabbitmqctl"):
        created = all(subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True,
                                     timeout=60).returncode == 0
                      for args in (["add_vhost", vhost],
                                   ["set_permissions", "-p", vhost, user, ".*", ".*",
                                    ".*"]))
    if not created:
        return None
    return urlunsplit(urlsplit(uri)._replace(path="/" + encoded))


def delete_vhost(uri: str, vhost: str,
                 management_url: str = "http://127.0.0.1:15672") -> None:
    if _management(uri, "DELETE", f"/api/vhosts/{quote(vhost, safe='')}", management_url):
        return
    if shutil.which("rabbitmqctl"):
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True,
                       timeout=60)
