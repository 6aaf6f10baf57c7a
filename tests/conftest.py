"""Test-wide set-up: eventlet first, then real RabbitMQ and PostgreSQL fixtures.

Integration tests run against the RabbitMQ at ``AMQP_URI`` (default
amqp://guest:guest@localhost:5672/) in a virtual host of their own, and against the
PostgreSQL server at ``TEST_POSTGRES_URL`` (default
postgresql://postgres@127.0.0.1:5432/postgres), in databases they create and drop.
"""

import eventlet

eventlet.monkey_patch()

import os  # noqa: E402 - eventlet must patch the standard library first
import shutil  # noqa: E402
import subprocess  # noqa: E402
import uuid  # noqa: E402
from urllib.parse import quote, urlsplit, urlunsplit  # noqa: E402

import pytest  # noqa: E402
import requests  # noqa: E402
import sqlalchemy  # noqa: E402

AMQP_URI = os.environ.get("AMQP_URI", "amqp://guest:guest@localhost:5672/")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/postgres")
MANAGEMENT_URL = os.environ.get("RABBIT_MANAGEMENT_URL", "http://127.0.0.1:15672")


def _with_vhost(uri: str, vhost: str) -> str:
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(path="/" + quote(vhost, safe="")))


def _management(method: str, path: str) -> bool:
    parts = urlsplit(AMQP_URI)
    try:
        response = requests.request(method, MANAGEMENT_URL + path, timeout=5,
                                    auth=(parts.username or "guest",
                                          parts.password or "guest"),
                                    json={} if method == "PUT" else None)
    except requests.ConnectionError:
        return False
    return response.status_code < 300


def _rabbitmqctl(*args: str) -> bool:
    if shutil.which("rabbitmqctl") is None:
        return False
    result = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, timeout=60)
    return result.returncode == 0


def create_vhost(vhost: str) -> None:
    user = urlsplit(AMQP_URI).username or "guest"
    encoded = quote(vhost, safe="")
    if _management("PUT", f"/api/vhosts/{encoded}"):
        _management("PUT", f"/api/permissions/{encoded}/{user}")
        return
    if _rabbitmqctl("add_vhost", vhost) and _rabbitmqctl(
            "set_permissions", "-p", vhost, user, ".*", ".*", ".*"):
        return
    pytest.fail("cannot create a RabbitMQ virtual host: enable the management plugin "
                "(rabbitmq-plugins enable rabbitmq_management) or run as a user that "
                "may call rabbitmqctl")


def delete_vhost(vhost: str) -> None:
    if not _management("DELETE", f"/api/vhosts/{quote(vhost, safe='')}"):
        _rabbitmqctl("delete_vhost", vhost)


TEST_SECRETS = {
    "VOUCHER_MAC_KEY": "test-voucher-mac-key-0123456789abcdef",
    "ROSTER_ENCRYPTION_KEY": "q6bQpXUXMRqbX0j0q5uQ6gFQk8y6vH9Qn2mJ4cY3sAs=",
    "ROSTER_HASH_KEY": "test-roster-hash-key-0123456789abcdef",
}
for _name, _value in TEST_SECRETS.items():
    # Services read their secrets from the environment only; tests use fixed ones.
    os.environ.setdefault(_name, _value)


@pytest.fixture(scope="module")
def amqp_uri():
    """A fresh RabbitMQ virtual host for one test module."""
    vhost = f"aixin-test-{uuid.uuid4().hex[:10]}"
    create_vhost(vhost)
    yield _with_vhost(AMQP_URI, vhost)
    delete_vhost(vhost)


@pytest.fixture
def postgres_database():
    """Create empty PostgreSQL databases on demand and drop them after the test."""
    admin = sqlalchemy.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    created = []

    def create(label: str) -> str:
        name = f"aixin_test_{uuid.uuid4().hex[:10]}_{label}"
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        created.append(name)
        return urlunsplit(urlsplit(POSTGRES_URL)._replace(path="/" + name))

    yield create
    with admin.connect() as connection:
        for name in created:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url_for(request, tmp_path, postgres_database):
    """Return a function giving each service a fresh database on either backend."""
    def url(service: str) -> str:
        if request.param == "sqlite":
            return f"sqlite:///{tmp_path / f'{service}.db'}"
        return postgres_database(service)
    url.backend = request.param
    return url


def pytest_collection_modifyitems(config, items):
    """Skip tests marked ``slow`` unless SLOW=1: they are the long fault variants."""
    if os.environ.get("SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="long variant: set SLOW=1 to run it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
