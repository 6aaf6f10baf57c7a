"""The gateway authenticates, authorises, validates and forwards to the services."""

import logging
import socket

import pytest
import requests

from gateway.service import GatewayService
from services.redemption.service import RedemptionService

ADMIN_TOKEN = "axn_" + "a" * 40
CAMPAIGN = {
    "name": "郾城区爱心消费券", "district_code": "411103", "district_name": "郾城区",
    "face_value_fen": 30000, "snapshot_month": "2022-12", "funds_due": "2023-01-13",
    "redemption_deadline": "2023-02-28", "joint_audit_date": "2023-03-06",
    "clearing_deadline": "2023-03-31",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gateway(runner_factory, amqp_uri, database_url_for):
    port = free_port()
    config = {"AMQP_URI": amqp_uri, "AIXIN_CLOCK": "system",
              "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
              "AIXIN_ADMIN_TOKEN": ADMIN_TOKEN,
              "GATEWAY_DATABASE_URL": database_url_for("gateway"),
              "REDEMPTION_DATABASE_URL": database_url_for("redemption")}
    runner = runner_factory(config, GatewayService, RedemptionService)
    runner.start()
    return f"http://127.0.0.1:{port}"


def token_for(base, role, scope=None):
    response = requests.post(f"{base}/v1/tokens", json={
        "role": role, "scope": scope, "name": f"test {role}"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


class TestGateway:
    def test_commerce_creates_campaign(self, gateway):
        commerce = token_for(gateway, "commerce")
        created = requests.post(f"{gateway}/v1/campaigns", json=CAMPAIGN,
                                headers=commerce, timeout=10)
        assert created.status_code == 201, created.text
        assert created.json()["spring_festival"] == "2023-01-22"
        fetched = requests.get(f"{gateway}/v1/campaigns/411103-2022-12",
                               headers=commerce, timeout=10)
        assert fetched.json()["face_value_fen"] == 30000

    def test_missing_token_is_401(self, gateway):
        response = requests.post(f"{gateway}/v1/campaigns", json=CAMPAIGN, timeout=10)
        assert response.status_code == 401
        assert response.json()["error"] == "unauthenticated"

    def test_township_cannot_create_campaign(self, gateway):
        township = token_for(gateway, "township", "411103101000")
        response = requests.post(f"{gateway}/v1/campaigns", json=CAMPAIGN,
                                 headers=township, timeout=10)
        assert response.status_code == 403

    def test_invalid_field_is_named(self, gateway):
        commerce = token_for(gateway, "commerce")
        response = requests.post(f"{gateway}/v1/campaigns",
                                 json={**CAMPAIGN, "face_value_fen": "300元"},
                                 headers=commerce, timeout=10)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
        assert "face_value_fen" in response.json()["message"]
        assert "'300元'" in response.json()["message"]
        assert "应为整数" in response.json()["message"]
        assert "Not a valid" not in response.json()["message"]
        [field] = response.json()["details"]["fields"]
        assert field["field"] == "face_value_fen"

    def test_invalid_query_is_rejected(self, gateway, caplog):
        caplog.set_level(logging.INFO, logger="gateway.service")
        commerce = token_for(gateway, "commerce")
        created = requests.post(f"{gateway}/v1/campaigns", json=CAMPAIGN,
                                headers=commerce, timeout=10)
        assert created.status_code == 201, created.text
        redemptions = f"{gateway}/v1/campaigns/{created.json()['campaign_id']}/redemptions"
        cases = [
            ({"audit_state": "done"}, "audit_state", "'done'"),
            ({"date_from": "2023-1-5"}, "date_from", "'2023-1-5'"),
            ({"merchant": "x"}, "merchant", "'x'"),
        ]
        for params, parameter, value in cases:
            response = requests.get(redemptions, params=params, headers=commerce,
                                    timeout=10)
            assert response.status_code == 400, response.text
            body = response.json()
            assert body["error"] == "invalid_query"
            assert f"查询参数 {parameter}" in body["message"]
            assert value in body["message"]
            assert body["details"]["fields"][0]["field"] == parameter
        inbox = requests.get(f"{gateway}/v1/inbox", params={"limit": "ten"},
                             headers=commerce, timeout=10)
        assert inbox.status_code == 400
        assert "查询参数 limit 的值 'ten' 无效" in inbox.json()["message"]
        [logged] = [record for record in caplog.records
                    if "code=invalid_query" in record.getMessage()
                    and "/v1/inbox" in record.getMessage()]
        assert logged.levelno == logging.INFO
        assert logged.exc_info is None
        listed = requests.get(redemptions, params={"audit_state": "approved",
                                                   "date_from": "2023-01-05"},
                              headers=commerce, timeout=10)
        assert listed.status_code == 200, listed.text
        assert listed.json() == []

    def test_revoked_token_stops_at_once(self, gateway):
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        issued = requests.post(f"{gateway}/v1/tokens", json={
            "role": "finance", "name": "finance"}, headers=admin, timeout=10).json()
        headers = {"Authorization": f"Bearer {issued['token']}"}
        assert requests.get(f"{gateway}/v1/whoami", headers=headers,
                            timeout=10).status_code == 200
        requests.delete(f"{gateway}/v1/tokens/{issued['token_id']}", headers=admin,
                        timeout=10)
        assert requests.get(f"{gateway}/v1/whoami", headers=headers,
                            timeout=10).status_code == 401

    def test_openapi_lists_operations(self, gateway):
        document = requests.get(f"{gateway}/openapi.json", timeout=10).json()
        assert "/v1/campaigns" in document["paths"]
        assert document["paths"]["/v1/campaigns"]["post"]["x-roles"] == ["commerce"]
