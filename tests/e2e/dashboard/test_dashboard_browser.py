"""The dashboard in headless Chromium shows the figures that the JSON routes return.

The gateway, redemption and reporting run in-process on SQLite. Commerce creates the
campaign through the gateway, and the rest of a small two-township campaign is fed to
reporting as events, with the campaign clock two days before Spring Festival. The
events include the redemption service's list of open cash-out flags, which the page
shows per township.
"""

import eventlet
import pytest
import requests

from aixin import events
from aixin.clock import FileClock
from aixin.money import format_yuan
from aixin.outbox import BrokerPublisher, build_event
from gateway.service import GatewayService
from services.redemption.service import RedemptionService
from services.reporting.service import ReportingService
from tests.e2e.dashboard.browser import Browser, find_chromium
from tests.integration.reporting.campaign_events import (CAMPAIGN_ID, EAST, WEST, at,
                                                         campaign_events)
from tests.integration.test_gateway_basics import CAMPAIGN, free_port

ADMIN_TOKEN = "axn_" + "d" * 40
CAMPAIGN_PATH = f"/v1/campaigns/{CAMPAIGN_ID}"

# Reads every figure the page shows, keyed by township code.
READ_PAGE = """(() => {
  const text = (root, selector) => root.querySelector(selector).textContent;
  const townships = {};
  for (const card of document.querySelectorAll('.township')) {
    const handout = card.querySelector('[data-kind=handout]');
    const redemption = card.querySelector('[data-kind=redemption]');
    townships[card.dataset.code] = {
      name: text(card, 'h3').replace(card.dataset.code, ''),
      handed_out: text(handout, '[data-field=handed_out]'),
      eligible: text(handout, '[data-field=eligible]'),
      handout_rate: text(handout, '[data-field=handout_rate]'),
      redeemed_count: text(redemption, '[data-field=redeemed_count]'),
      redemption_base: text(redemption, '[data-field=handed_out]'),
      redeemed_fen: text(card, '[data-field=redeemed_fen]'),
      open_flags: text(card, '[data-field=open_flags]'),
      open_flags_marked: card.querySelector('[data-field=open_flags]')
        .parentElement.classList.contains('flagged'),
      handout_due: text(handout, '.due'),
      fills: [handout, redemption].map((block) =>
        getComputedStyle(block.querySelector('.bar > div')).backgroundColor),
    };
  }
  const lines = {};
  for (const line of document.querySelectorAll('#chart polyline')) {
    lines[line.dataset.series] = {last: line.dataset.last,
                                  points: line.getAttribute('points').split(' ').length};
  }
  return {
    title: document.getElementById('title').textContent,
    today: document.getElementById('today').textContent,
    days_festival: document.getElementById('days-festival').textContent,
    days_redemption: document.getElementById('days-redemption').textContent,
    total_handed_out: text(document, '#totals [data-field=handed_out]'),
    total_redeemed_fen: text(document, '#totals [data-field=redeemed_fen]'),
    total_open_flags: text(document, '#totals [data-field=open_flags]'),
    flag_count: document.getElementById('flag-count').textContent,
    flags_note: document.getElementById('flags-note').textContent,
    townships, lines,
    page_width: document.documentElement.scrollWidth,
    login_shown: document.getElementById('login').offsetParent !== null,
  };
})()"""


def wait_for(predicate, timeout: float = 30.0):
    with eventlet.Timeout(timeout):
        while True:
            value = predicate()
            if value:
                return value
            eventlet.sleep(0.2)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def issue_token(base: str, role: str, scope=None) -> str:
    response = requests.post(f"{base}/v1/tokens", json={
        "role": role, "scope": scope, "name": f"看板 {role}"},
        headers=bearer(ADMIN_TOKEN), timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["token"]


@pytest.fixture
def gateway(runner_factory, amqp_uri, tmp_path):
    find_chromium()
    clock = FileClock(tmp_path / "clock.json")
    clock.set(at(1, 20, 10))
    port = free_port()
    config = {"AMQP_URI": amqp_uri, "AIXIN_CLOCK": f"file:{clock.path}",
              "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
              "AIXIN_ADMIN_TOKEN": ADMIN_TOKEN,
              "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
              "REDEMPTION_DATABASE_URL": f"sqlite:///{tmp_path / 'redemption.db'}",
              "REPORTING_DATABASE_URL": f"sqlite:///{tmp_path / 'reporting.db'}"}
    runner_factory(config, GatewayService, RedemptionService, ReportingService).start()
    base = f"http://127.0.0.1:{port}"
    commerce = issue_token(base, "commerce")
    created = requests.post(f"{base}/v1/campaigns", json=CAMPAIGN,
                            headers=bearer(commerce), timeout=10)
    assert created.status_code == 201, created.text
    wait_for(lambda: requests.get(f"{base}{CAMPAIGN_PATH}/summary",
                                  headers=bearer(commerce), timeout=10).ok)
    publishers = {}
    for event_type, data in campaign_events():
        if event_type == "campaign_created":
            continue
        producer = events.spec_of(event_type).producer
        publisher = publishers.setdefault(producer, BrokerPublisher(amqp_uri, producer))
        publisher.publish(build_event(event_type, data, at(1, 20, 9)))
    for publisher in publishers.values():
        publisher.close()

    def settled():
        summary = requests.get(f"{base}{CAMPAIGN_PATH}/summary",
                               headers=bearer(commerce), timeout=10).json()
        totals = summary["totals"]
        return totals["issued"] == 6 and totals["redeemed_count"] == 3 and totals[
            "refund_fen"] == 35000 and totals["open_flags"] == 2

    wait_for(settled)
    return {"base": base, "commerce": commerce}


def api(gateway, token: str, path: str) -> dict:
    response = requests.get(f"{gateway['base']}{path}", headers=bearer(token),
                            timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def log_in(browser, token: str) -> None:
    browser.wait_for_state("login")
    browser.evaluate(f"""(() => {{
        document.getElementById('token-input').value = {token!r};
        document.getElementById('login').requestSubmit();
    }})()""")
    browser.wait_for_state("ready")


def test_dashboard_matches_api(gateway, tmp_path):
    base, commerce = gateway["base"], gateway["commerce"]
    summary = api(gateway, commerce, f"{CAMPAIGN_PATH}/summary")
    series = api(gateway, commerce, f"{CAMPAIGN_PATH}/timeseries")["days"]
    flags = api(gateway, commerce, f"{CAMPAIGN_PATH}/cashout-flags")
    clock = api(gateway, commerce, "/v1/clock")
    assert clock["now"].startswith("2023-01-20")

    browser = Browser(tmp_path / "profile")
    try:
        browser.phone_screen()
        browser.open(f"{base}/dashboard?campaign={CAMPAIGN_ID}")
        log_in(browser, commerce)
        shown = browser.evaluate(READ_PAGE)
        screenshot = browser.screenshot(tmp_path / "dashboard-commerce-phone.png")

        # The token is kept for the tab: a reload opens the board without the form.
        browser.open(f"{base}/dashboard")
        assert browser.wait_for_state("ready", "login") == "ready"
    finally:
        browser.close()

    assert screenshot.stat().st_size > 10_000
    assert shown["title"] == "郾城区爱心消费券 进度看板"
    assert shown["today"] == "2023-01-20"
    assert shown["days_festival"] == "2 天"
    assert shown["days_redemption"] == "39 天"
    assert shown["page_width"] <= 390, "the page scrolls sideways on a phone"
    assert not shown["login_shown"]

    assert sorted(shown["townships"]) == [EAST, WEST]
    for row in summary["townships"]:
        card = shown["townships"][row["code"]]
        assert card["name"] == row["name"]
        assert card["handed_out"] == str(row["handed_out"])
        assert card["eligible"] == str(row["eligible"])
        assert card["redeemed_count"] == str(row["redeemed_count"])
        assert card["redemption_base"] == str(row["handed_out"])
        assert card["redeemed_fen"].replace(",", "") == format_yuan(row["redeemed_fen"])
        assert card["handout_rate"] == f"{row['handout_rate'] * 100:.1f}%"
        assert "rgba(0, 0, 0, 0)" not in card["fills"], "a progress bar has no colour"
        missing = row["eligible"] - row["handed_out"]
        assert f"尚有 {missing} 张未发放" in card["handout_due"]
        assert card["open_flags"] == str(row["open_flags"])
        assert card["open_flags_marked"] == (row["open_flags"] > 0)
    # The events flag one case in the east and two in the west, one of them shared.
    assert [row["open_flags"] for row in summary["townships"]] == [1, 2]
    totals = summary["totals"]
    assert shown["total_open_flags"] == str(totals["open_flags"]) == "2"
    assert shown["total_handed_out"] == str(totals["handed_out"])
    assert shown["total_redeemed_fen"].replace(",", "") == format_yuan(
        totals["redeemed_fen"])

    last_day = series[-1]
    assert shown["lines"]["handout"] == {
        "last": str(last_day["issued_total"] - last_day["voided_total"]),
        "points": len(series)}
    assert shown["lines"]["redeemed"] == {"last": str(last_day["redeemed_count_total"]),
                                          "points": len(series)}
    assert shown["flag_count"] == str(len(flags["flags"]))
    assert f"已检查 {flags['redemptions_checked']} 笔核销" in shown["flags_note"]


def test_township_sees_own_only(gateway, tmp_path):
    base = gateway["base"]
    township = issue_token(base, "township", WEST)
    own = api(gateway, township, f"{CAMPAIGN_PATH}/summary")["townships"]
    assert [row["code"] for row in own] == [WEST]

    browser = Browser(tmp_path / "profile")
    try:
        browser.open(f"{base}/dashboard?campaign={CAMPAIGN_ID}")
        log_in(browser, township)
        shown = browser.evaluate(READ_PAGE)
        browser.screenshot(tmp_path / "dashboard-township.png")
    finally:
        browser.close()

    assert list(shown["townships"]) == [WEST]
    assert shown["townships"][WEST]["handed_out"] == str(own[0]["handed_out"])
    assert shown["townships"][WEST]["open_flags"] == str(own[0]["open_flags"]) == "2"
    assert shown["flag_count"] == ""
    assert "仅区商务局、区财政局和领导小组可查看" in shown["flags_note"]


def test_dashboard_files_served(gateway):
    base = gateway["base"]
    page = requests.get(f"{base}/dashboard", timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    script = requests.get(f"{base}/dashboard/dashboard.js", timeout=10)
    assert script.headers["Content-Type"].startswith("text/javascript")
    for path in ("/dashboard/__init__.py", "/dashboard/../service.py",
                 "/dashboard/missing.css"):
        assert requests.get(f"{base}{path}", timeout=10).status_code == 404
