"""What the gateway returns when a service call cannot reach RabbitMQ."""

import json

import pytest
from kombu.exceptions import OperationalError
from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.service import GatewayService


def public_voucher_request() -> Request:
    return Request(EnvironBuilder(
        method="GET", path="/v1/public/vouchers/014111030010000033",
        query_string={"check_code": "ABCD2345"}).get_environ())


@pytest.mark.parametrize("error", [
    OperationalError("[Errno 111] ECONNREFUSED"),
    ConnectionResetError(104, "Connection reset by peer"),
])
def test_unreachable_broker_returns_503_with_retry_after(error):
    gateway = worker_factory(GatewayService)
    gateway.issuance.public_voucher.side_effect = error
    response = gateway.api(public_voucher_request(), "public/vouchers/014111030010000033")
    assert response.status_code == 503
    body = json.loads(response.get_data())
    assert body["error"] == "broker_unavailable"
    assert "幂等键" in body["message"]
    assert response.headers["Retry-After"] == "5"
    assert body["details"]["request_id"] == response.headers["X-Request-Id"]
