"""Fixtures of the redemption tests: the gateway, the redemption service, a campaign
with two designated merchants in two townships, and issued vouchers fed as events."""

from datetime import datetime

import pytest
import requests

from aixin.clock import CAMPAIGN_TZ, FileClock
from gateway.service import GatewayService
from services.redemption.service import RedemptionService
from tests.integration.redemption.redemption_setup import (
    ADMIN_TOKEN, CAMPAIGN, CAMPAIGN_ID, MAC_KEY, MERCHANT, OTHER_MERCHANT,
    OTHER_TOWNSHIP, SHOPPING_AT, TOWNSHIP, Campaign, free_port)


@pytest.fixture
def campaign(request, runner_factory, amqp_uri, database_url_for, tmp_path,
             monkeypatch):
    """The running campaign; a test module's ``CAMPAIGN_OVERRIDES`` dict changes
    its configuration, for example its cash-out thresholds."""
    monkeypatch.setenv("VOUCHER_MAC_KEY", MAC_KEY)
    monkeypatch.setenv("AIXIN_UPLOAD_DIR", str(tmp_path / "uploads"))
    clock_path = tmp_path / "clock.json"
    clock = FileClock(clock_path)
    clock.set(datetime(2023, 1, 5, 9, 0, tzinfo=CAMPAIGN_TZ))
    port = free_port()
    redemption_url = database_url_for("redemption")
    config = {"AMQP_URI": amqp_uri, "AIXIN_CLOCK": f"file:{clock_path}",
              "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
              "AIXIN_ADMIN_TOKEN": ADMIN_TOKEN, "max_workers": 10,
              "GATEWAY_DATABASE_URL": database_url_for("gateway"),
              "REDEMPTION_DATABASE_URL": redemption_url}
    runner = runner_factory(config, GatewayService, RedemptionService)
    runner.start()
    running = Campaign(f"http://127.0.0.1:{port}", amqp_uri, redemption_url, clock)
    commerce = running.token("commerce")
    config = {**CAMPAIGN, **getattr(request.module, "CAMPAIGN_OVERRIDES", {})}
    created = requests.post(f"{running.base}/v1/campaigns", json=config,
                            headers=commerce, timeout=10)
    assert created.status_code == 201, created.text
    for code, township, name in ((MERCHANT, TOWNSHIP, "城关超市"),
                                 (OTHER_MERCHANT, OTHER_TOWNSHIP, "新店超市")):
        designated = requests.post(
            f"{running.base}/v1/campaigns/{CAMPAIGN_ID}/merchants", json={
                "merchant_code": code, "name": name, "above_size": True, "stores": 2,
                "township_codes": [township], "valid_from": "2023-01-01",
                "valid_to": "2023-03-31"}, headers=commerce, timeout=10)
        assert designated.status_code == 201, designated.text
    running.headers = {"commerce": commerce,
                       "merchant": running.token("merchant", MERCHANT),
                       "other_merchant": running.token("merchant", OTHER_MERCHANT),
                       "finance": running.token("finance")}
    clock.set(SHOPPING_AT)
    yield running
    running.database.dispose()
