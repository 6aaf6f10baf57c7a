"""API tokens: stored only as hashes, compared in constant time, revoked at once."""

import hashlib
import inspect
import socket

import eventlet
import pytest
import requests
import sqlalchemy

from gateway import tokens
from gateway.service import GatewayService

ADMIN_TOKEN = "axn_" + "s" * 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gateway(runner_factory, amqp_uri, tmp_path):
    port = free_port()
    database_url = f"sqlite:///{tmp_path / 'gateway.db'}"
    runner = runner_factory({"AMQP_URI": amqp_uri, "AIXIN_CLOCK": "system",
                             "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
                             "AIXIN_ADMIN_TOKEN": ADMIN_TOKEN,
                             "GATEWAY_DATABASE_URL": database_url}, GatewayService)
    runner.start()
    return f"http://127.0.0.1:{port}", database_url


def issue(base: str, role: str, scope=None) -> dict:
    response = requests.post(f"{base}/v1/tokens", json={
        "role": role, "scope": scope, "name": f"test {role}"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def whoami(base: str, token: str) -> int:
    return requests.get(f"{base}/v1/whoami", headers={
        "Authorization": f"Bearer {token}"}, timeout=10).status_code


def test_table_has_no_clear_token(gateway):
    base, database_url = gateway
    issued = [issue(base, "finance"), issue(base, "township", "411103001000")]
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT * FROM api_tokens").all()
    finally:
        engine.dispose()
    stored = " ".join(str(value) for row in rows for value in row)
    for token in [ADMIN_TOKEN] + [item["token"] for item in issued]:
        assert token not in stored
        assert token[len(tokens.TOKEN_PREFIX):] not in stored
        assert hashlib.sha256(token.encode()).hexdigest() in stored


def test_lookup_is_by_hash_and_constant_time():
    source = inspect.getsource(tokens.authenticate)
    assert "hash_token(token)" in source
    assert "hmac.compare_digest" in source
    assert "== token" not in source


def test_revoked_scoped_token_stops_at_once(gateway):
    base, _ = gateway
    issued = issue(base, "township", "411103001000")
    assert whoami(base, issued["token"]) == 200
    revoked = requests.delete(f"{base}/v1/tokens/{issued['token_id']}", headers={
        "Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)
    assert revoked.status_code == 200, revoked.text
    assert whoami(base, issued["token"]) == 401
    again = requests.delete(f"{base}/v1/tokens/{issued['token_id']}", headers={
        "Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)
    assert again.status_code == 404


@pytest.mark.parametrize("token", ["", "axn_", "axn_" + "x" * 200, "Bearer",
                                   ADMIN_TOKEN[:-1], ADMIN_TOKEN.upper()])
def test_near_miss_tokens_are_401(gateway, token):
    base, _ = gateway
    assert whoami(base, token) == 401


def test_revocation_by_another_gateway_holds_within_the_cache_time(
        runner_factory, amqp_uri, tmp_path):
    """A token revoked in the database by another gateway instance (or by hand) is
    refused here once this gateway's cache time has passed, and not later."""
    port = free_port()
    database_url = f"sqlite:///{tmp_path / 'gateway.db'}"
    runner = runner_factory({"AMQP_URI": amqp_uri, "AIXIN_CLOCK": "system",
                             "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
                             "AIXIN_ADMIN_TOKEN": ADMIN_TOKEN,
                             "GATEWAY_TOKEN_CACHE_S": 1,
                             "GATEWAY_DATABASE_URL": database_url}, GatewayService)
    runner.start()
    base = f"http://127.0.0.1:{port}"
    issued = issue(base, "finance")
    assert whoami(base, issued["token"]) == 200
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "UPDATE api_tokens SET revoked_at = CURRENT_TIMESTAMP "
                "WHERE token_id = ?", (issued["token_id"],))
    finally:
        engine.dispose()
    eventlet.sleep(1.2)
    assert whoami(base, issued["token"]) == 401
