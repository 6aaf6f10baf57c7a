"""Settlement over the real broker: events in, ledger out, on SQLite and PostgreSQL.

One campaign with two townships (3 and 2 eligible persons, 300 yuan each) goes from
the published roster through allocation, redemptions, the audit, a roster amendment,
merchant payment and clearing, with duplicated events all along.
"""

import eventlet
import pytest
from nameko.standalone.rpc import ServiceRpcProxy
from settlement_events import (CAMPAIGN, CAMPAIGN_ID, FACE, MERCHANT,
                               MERCHANT_DESIGNATED, ROSTER_COMPLETED, TOWN_A, TOWN_B,
                               amended, at, audited, redeemed)
from settlement_feed import EventFeed, wait_for

from aixin.errors import DomainError
from services.settlement.service import SettlementService

FINANCE = {"role": "finance", "scope": None, "name": "财政局经办人", "token_id": "t1",
           "correlation_id": "c1"}
REDEMPTIONS = [("r1", TOWN_A, 30000), ("r2", TOWN_A, 25000), ("r3", TOWN_B, 30000),
               ("r4", TOWN_B, 30000)]


@pytest.fixture
def config(amqp_uri, database_url_for):
    return {"AMQP_URI": amqp_uri, "AIXIN_CLOCK": "system",
            "SETTLEMENT_DATABASE_URL": database_url_for("settlement")}


@pytest.fixture
def settlement(container_factory, config):
    container_factory(SettlementService, config).start()
    feed = EventFeed(config["AMQP_URI"])
    with ServiceRpcProxy("settlement", config) as proxy:
        yield proxy, feed
    feed.close()


def publish_roster(feed, settlement):
    feed.send("campaign_created", CAMPAIGN, repeat=2)
    feed.send("roster_publication_completed", ROSTER_COMPLETED, repeat=2)
    feed.send("merchant_designated", MERCHANT_DESIGNATED)
    wait_for(lambda: _allocation_ready(settlement))


def _allocation_ready(settlement):
    try:
        return len(settlement.get_allocation(FINANCE, CAMPAIGN_ID)["townships"]) == 2
    except DomainError:
        return False


def redeem_all(feed, settlement):
    for redemption_id, township, part in REDEMPTIONS:
        feed.send("voucher_redeemed", redeemed(redemption_id, township, part), repeat=2)
    wait_for(lambda: settlement.get_balances(
        FINANCE, CAMPAIGN_ID)["pending_redemptions"] == len(REDEMPTIONS))


def audit_all(feed, settlement):
    envelope = feed.send("redemptions_audited",
                         audited(REDEMPTIONS[:3], REDEMPTIONS[3:]), repeat=2)
    wait_for(lambda: settlement.get_balances(
        FINANCE, CAMPAIGN_ID)["pending_redemptions"] == 0)
    return envelope


def approve(settlement):
    settlement.record_pre_allocation(FINANCE, CAMPAIGN_ID, {
        "amount_fen": 5 * FACE, "received_at": at(1, 12).isoformat()}, "pre-1")
    return settlement.approve_allocation(FINANCE, CAMPAIGN_ID, {}, "approve-1")


class TestSettlementLedger:
    def test_clearing_pays_exactly_approved(self, settlement):
        proxy, feed = settlement
        publish_roster(feed, proxy)
        received = proxy.record_pre_allocation(FINANCE, CAMPAIGN_ID, {
            "amount_fen": 4 * FACE, "received_at": at(1, 12).isoformat()}, "pre-1")
        assert received["expected_fen"] == 5 * FACE
        assert received["difference_fen"] == -FACE
        proxy.record_pre_allocation(FINANCE, CAMPAIGN_ID, {
            "amount_fen": FACE, "received_at": at(1, 13).isoformat()}, "pre-2")
        allocation = proxy.approve_allocation(FINANCE, CAMPAIGN_ID, {}, "approve-1")
        assert allocation["allocated_fen"] == 5 * FACE
        assert allocation["district_balance_fen"] == 0

        redeem_all(feed, proxy)
        with pytest.raises(DomainError) as rejected:
            proxy.clear_township(FINANCE, CAMPAIGN_ID, TOWN_A, {}, "clear-a-early")
        assert rejected.value.code == "township_audit_incomplete"
        assert rejected.value.details["pending_redemption_ids"] == ["r1", "r2"]

        audit_all(feed, proxy)
        feed.send("roster_amended", amended("add", TOWN_B), repeat=2)
        wait_for(lambda: proxy.get_township(
            FINANCE, CAMPAIGN_ID, TOWN_B)["allocated_fen"] == 3 * FACE)

        merchant = proxy.get_merchant(FINANCE, CAMPAIGN_ID, MERCHANT)
        assert merchant["approved_fen"] == 85000
        assert merchant["redemptions"]["rejected"] == 1
        paid = proxy.record_merchant_payment(FINANCE, CAMPAIGN_ID, MERCHANT,
                                             {"amount_fen": 85000}, "pay-1")
        assert paid["unpaid_fen"] == 0

        cleared_a = proxy.clear_township(FINANCE, CAMPAIGN_ID, TOWN_A, {}, "clear-a")
        assert cleared_a["refund_fen"] == 3 * FACE - 55000
        cleared_b = proxy.clear_township(FINANCE, CAMPAIGN_ID, TOWN_B, {}, "clear-b")
        assert cleared_b["refund_fen"] == 3 * FACE - 30000
        district = proxy.clear_district(FINANCE, CAMPAIGN_ID, {}, "clear-district")
        assert district["refund_fen"] == 5 * FACE - 85000
        assert district["province_net_paid_fen"] == 85000

        balances = proxy.get_balances(FINANCE, CAMPAIGN_ID)
        assert balances["balance_sum_fen"] == 0
        assert balances["province_net_paid_fen"] == 85000
        by_account = {row["account"]: row["balance_fen"]
                      for row in balances["balances"]}
        assert by_account["district"] == 0
        assert by_account[f"township:{TOWN_A}"] == 0
        assert by_account[f"merchant_paid:{MERCHANT}"] == 85000

    def test_replayed_events_change_nothing(self, settlement):
        proxy, feed = settlement
        publish_roster(feed, proxy)
        approve(proxy)
        redeem_all(feed, proxy)
        envelope = audit_all(feed, proxy)
        before = proxy.get_balances(FINANCE, CAMPAIGN_ID)
        assert before["balance_sum_fen"] == 0

        feed.resend(envelope, repeat=3)
        feed.send("redemptions_audited", audited(REDEMPTIONS[:1], []))
        eventlet.sleep(1.5)
        after = proxy.get_balances(FINANCE, CAMPAIGN_ID)
        assert after == before
        assert after["transfers"] == 1 + 2 + 3

        ledger = proxy.get_ledger(FINANCE, CAMPAIGN_ID, f"township:{TOWN_A}")
        assert [line["balance_fen"] for line in ledger["lines"]] == [
            3 * FACE, 3 * FACE - 30000, 3 * FACE - 55000]

    def test_approval_withdrawn_is_reversed(self, settlement):
        proxy, feed = settlement
        publish_roster(feed, proxy)
        approve(proxy)
        redeem_all(feed, proxy)
        audit_all(feed, proxy)
        withdrawal = audited([], [REDEMPTIONS[0]])
        feed.send("redemptions_audited", {**withdrawal, "audit_id": "audit-2"})
        wait_for(lambda: proxy.get_township(
            FINANCE, CAMPAIGN_ID, TOWN_A)["approved_fen"] == 25000)
        balances = proxy.get_balances(FINANCE, CAMPAIGN_ID)
        assert balances["balance_sum_fen"] == 0
        merchant = proxy.get_merchant(FINANCE, CAMPAIGN_ID, MERCHANT)
        assert merchant["reimbursed_fen"] == 55000
        cleared = proxy.clear_township(FINANCE, CAMPAIGN_ID, TOWN_A, {}, "clear-a")
        assert cleared["refund_fen"] == 3 * FACE - 25000
        with pytest.raises(DomainError) as again:
            proxy.clear_township(FINANCE, CAMPAIGN_ID, TOWN_A, {}, "clear-a-again")
        assert again.value.code == "township_already_cleared"
