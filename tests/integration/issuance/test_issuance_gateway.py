"""Through the gateway, a township token reaches only its own township's vouchers."""

import socket

import pytest
import requests
from issuance_setup import (CAMPAIGN_ID, M1, MAC_KEY, TOWN_A, TOWN_B, Feed, at,
                            wait_for)

from aixin.clock import FileClock
from gateway.service import GatewayService
from services.issuance.service import IssuanceService

ADMIN_TOKEN = "axn_" + "b" * 40
BASE_A = f"/v1/campaigns/{CAMPAIGN_ID}/townships/{TOWN_A}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gateway(runner_factory, amqp_uri, database_url_for, tmp_path):
    clock = FileClock(tmp_path / "clock.json")
    clock.set(at(15))
    port = free_port()
    config = {"AMQP_URI": amqp_uri, "AIXIN_CLOCK": f"file:{clock.path}",
              "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
              "AIXIN_ADMIN_TOKEN": ADMIN_TOKEN, "VOUCHER_MAC_KEY": MAC_KEY,
              "GATEWAY_DATABASE_URL": database_url_for("gateway"),
              "ISSUANCE_DATABASE_URL": database_url_for("issuance")}
    runner_factory(config, GatewayService, IssuanceService).start()
    feed = Feed(amqp_uri)
    feed.set_up_campaign()
    yield f"http://127.0.0.1:{port}"
    feed.close()


def token_for(base, role, scope=None):
    response = requests.post(f"{base}/v1/tokens", json={
        "role": role, "scope": scope, "name": f"test {role} {scope}"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_township_scope_and_public_page(gateway):
    own = token_for(gateway, "township", TOWN_A)
    other = token_for(gateway, "township", TOWN_B)
    finance = token_for(gateway, "finance")
    wait_for(lambda: requests.get(f"{gateway}{BASE_A}/progress", headers=own,
                                  timeout=10).json().get("allocated_fen"))

    printed = requests.post(f"{gateway}{BASE_A}/print-batches", headers=own,
                            json={"merchant_code": M1, "operator": "李四"}, timeout=10)
    assert printed.status_code == 201, printed.text
    voucher = printed.json()["vouchers"][0]
    handed = requests.post(f"{gateway}{BASE_A}/handouts", headers=own, timeout=10,
                           json={"serial": voucher["serial"], "beneficiary_id": "b1",
                                 "recipient_kind": "self", "operator": "村干部"})
    assert handed.status_code == 201, handed.text
    second = requests.post(f"{gateway}{BASE_A}/handouts", headers=own, timeout=10,
                           json={"serial": printed.json()["vouchers"][1]["serial"],
                                 "beneficiary_id": "b1", "recipient_kind": "self",
                                 "operator": "村干部"})
    assert second.status_code == 409
    assert second.json()["error"] == "beneficiary_already_has_voucher"

    for path in ("/progress", "/identity-check", "/print-batches",
                 f"/vouchers/{voucher['serial']}"):
        response = requests.get(f"{gateway}{BASE_A}{path}", headers=other, timeout=10)
        assert response.status_code == 404, path
    voided = requests.post(f"{gateway}{BASE_A}/voids", headers=other, timeout=10,
                           json={"serial": voucher["serial"], "reason": "lost",
                                 "operator": "外镇"})
    assert voided.status_code == 404
    assert requests.get(f"{gateway}{BASE_A}/vouchers/{voucher['serial']}",
                        headers=own, timeout=10).json()["state"] == "issued"

    check = requests.get(f"{gateway}{BASE_A}/identity-check", headers=finance,
                         timeout=10)
    assert check.status_code == 200
    assert check.json()["holds"] is True
    assert requests.post(f"{gateway}{BASE_A}/voids", headers=finance, timeout=10,
                         json={"serial": voucher["serial"], "reason": "lost",
                               "operator": "财政"}).status_code == 403

    sheet = requests.get(f"{gateway}{BASE_A}/sign-off-sheets",
                         params={"village": "东村", "format": "xlsx"}, headers=own,
                         timeout=10)
    assert sheet.status_code == 200
    assert sheet.content.startswith(b"PK")

    public = requests.get(f"{gateway}/v1/public/vouchers/{voucher['serial']}",
                          params={"check_code": voucher["check_code"]}, timeout=10)
    assert public.status_code == 200, public.text
    assert public.json()["handed_out_to"] == "张*明"
    wrong = requests.get(f"{gateway}/v1/public/vouchers/{voucher['serial']}",
                         params={"check_code": "AAAAAAAA"}, timeout=10)
    unknown = requests.get(f"{gateway}/v1/public/vouchers/123",
                           params={"check_code": "AAAAAAAA"}, timeout=10)
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()
