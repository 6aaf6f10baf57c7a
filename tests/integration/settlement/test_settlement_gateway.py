"""Finance's settlement routes through the gateway, and township scope denials."""

import socket

import pytest
import requests
from settlement_events import (CAMPAIGN, CAMPAIGN_ID, FACE, MERCHANT_DESIGNATED,
                               ROSTER_COMPLETED, TOWN_A, TOWN_B, at)
from settlement_feed import EventFeed, wait_for

from gateway.service import GatewayService
from services.settlement.service import SettlementService

ADMIN_TOKEN = "axn_" + "b" * 40
BASE = f"/v1/campaigns/{CAMPAIGN_ID}/settlement"


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
              "SETTLEMENT_DATABASE_URL": database_url_for("settlement")}
    runner_factory(config, GatewayService, SettlementService).start()
    feed = EventFeed(amqp_uri)
    feed.send("campaign_created", CAMPAIGN)
    feed.send("roster_publication_completed", ROSTER_COMPLETED)
    feed.send("merchant_designated", MERCHANT_DESIGNATED)
    yield f"http://127.0.0.1:{port}"
    feed.close()


def token_for(base, role, scope=None):
    response = requests.post(f"{base}/v1/tokens", json={
        "role": role, "scope": scope, "name": f"test {role}"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def allocation_listed(base, headers):
    response = requests.get(f"{base}{BASE}/allocation", headers=headers, timeout=10)
    return response.status_code == 200 and len(response.json()["townships"]) == 2


class TestSettlementGateway:
    def test_finance_allocates_and_township_reads_own(self, gateway):
        finance = token_for(gateway, "finance")
        wait_for(lambda: allocation_listed(gateway, finance))
        received = requests.post(f"{gateway}{BASE}/pre-allocations", json={
            "amount_fen": 5 * FACE, "received_at": at(1, 12).isoformat()},
            headers=finance, timeout=10)
        assert received.status_code == 201, received.text
        assert received.json()["difference_fen"] == 0
        approved = requests.post(f"{gateway}{BASE}/allocation/approval", json={},
                                 headers=finance, timeout=10)
        assert approved.status_code == 201, approved.text
        balances = requests.get(f"{gateway}{BASE}/balances", headers=finance,
                                timeout=10).json()
        assert balances["balance_sum_fen"] == 0
        assert balances["province_net_paid_fen"] == 5 * FACE

        township = token_for(gateway, "township", TOWN_A)
        own = requests.get(f"{gateway}{BASE}/townships/{TOWN_A}", headers=township,
                           timeout=10)
        assert own.status_code == 200, own.text
        assert own.json()["allocated_fen"] == 3 * FACE
        ledger = requests.get(f"{gateway}{BASE}/ledger/township:{TOWN_A}",
                              headers=township, timeout=10)
        assert ledger.json()["balance_fen"] == 3 * FACE
        other = requests.get(f"{gateway}{BASE}/townships/{TOWN_B}", headers=township,
                             timeout=10)
        assert other.status_code == 404
        district = requests.get(f"{gateway}{BASE}/ledger/district", headers=township,
                                timeout=10)
        assert district.status_code == 404

        statement = requests.get(f"{gateway}{BASE}/townships/{TOWN_A}/statement",
                                 params={"format": "pdf"}, headers=township, timeout=30)
        assert statement.status_code == 200, statement.text
        assert statement.content.startswith(b"%PDF")

    def test_invalid_amount_and_roles(self, gateway):
        finance = token_for(gateway, "finance")
        invalid = requests.post(f"{gateway}{BASE}/pre-allocations", json={
            "amount_fen": "300元", "received_at": at(1, 12).isoformat()},
            headers=finance, timeout=10)
        assert invalid.status_code == 400
        assert "amount_fen" in invalid.json()["message"]
        leading = token_for(gateway, "leading_group")
        denied = requests.post(f"{gateway}{BASE}/allocation/approval", json={},
                               headers=leading, timeout=10)
        assert denied.status_code == 403
        wait_for(lambda: allocation_listed(gateway, leading))
        early = requests.post(f"{gateway}{BASE}/clearing", json={}, headers=finance,
                              timeout=10)
        assert early.status_code == 409
        assert early.json()["error"] == "allocation_not_approved"
        workbook = requests.get(f"{gateway}{BASE}/statement", headers=leading,
                                timeout=30)
        assert workbook.status_code == 200, workbook.text
        assert workbook.content.startswith(b"PK")
