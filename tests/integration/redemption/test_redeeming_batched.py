"""Concurrent redemptions through the gateway's batcher: each request gets the outcome
it gets alone, and the stored rows agree afterwards."""

import json
from collections import Counter

import eventlet
import pytest
import requests
from sqlalchemy import func, select

from aixin.plumbing import audit_log, idempotency_keys, outbox
from aixin.vouchers import make_serial
from gateway import batching
from gateway import service as gateway_service
from services.redemption import service as redemption_service
from services.redemption.models import redemptions, vouchers
from tests.integration.redemption.redemption_setup import (CAMPAIGN_ID, MERCHANT,
                                                           OTHER_MERCHANT,
                                                           OTHER_TOWNSHIP, TOWNSHIP,
                                                           basket)


def stored_counts(campaign) -> dict:
    """Count the rows that a redemption writes together."""
    with campaign.database.reading() as session:
        def count(statement):
            return session.execute(statement).scalar_one()
        stored = session.execute(select(idempotency_keys.c.response).where(
            idempotency_keys.c.operation == "redeem")).scalars().all()
        return {
            "redemptions": count(select(func.count()).select_from(redemptions)),
            "vouchers": count(select(func.count()).select_from(vouchers).where(
                vouchers.c.state == "redeemed")),
            "events": count(select(func.count()).select_from(outbox).where(
                outbox.c.event_type == "voucher_redeemed")),
            "audit": count(select(func.count()).select_from(audit_log).where(
                audit_log.c.action == "redeem_voucher")),
            "keys": sum(1 for response in stored
                        if "__error__" not in (response if isinstance(response, dict)
                                               else json.loads(response))),
        }


def test_nul_request_rejected_alone_in_crowd(campaign):
    serials = campaign.print_and_issue(TOWNSHIP, list(range(101, 113)))
    merchant = campaign.headers["merchant"]
    pool = eventlet.GreenPool(len(serials))

    def redeem(serial):
        transaction = "T\x00" if serial == serials[5] else None
        return campaign.redeem(merchant, serial, transaction=transaction)

    responses = list(pool.imap(redeem, serials))
    statuses = [response.status_code for response in responses]
    others = statuses[:5] + statuses[6:]
    assert others == [201] * 11, statuses
    assert statuses[5] == 400
    assert responses[5].json()["error"] == "invalid_character"
    assert responses[5].json()["details"]["field"] == "$.till_transaction_id"
    assert stored_counts(campaign)["redemptions"] == 11


def test_mixed_crowd_gets_single_outcomes(campaign):
    valid = campaign.print_and_issue(TOWNSHIP, list(range(201, 211)))
    other_valid = campaign.print_and_issue(OTHER_TOWNSHIP, list(range(211, 216)),
                                           merchant=OTHER_MERCHANT)
    raced, keyed, changed_a, changed_b, rejected_1, rejected_2, rejected_3, foreign = (
        campaign.print_and_issue(TOWNSHIP, list(range(221, 229))))
    merchant = campaign.headers["merchant"]
    other = campaign.headers["other_merchant"]
    lines_of_cash = [{"item": "购物卡", "category": "gift_card", "quantity": 1,
                      "unit_price_fen": 8000, "amount_fen": 8000}]
    # (name, call, expected status, expected error code or None)
    cases = []
    for serial in valid:
        cases.append((f"valid {serial}", lambda s=serial: campaign.redeem(
            merchant, s, key=f"v-{s}"), 201, None))
    for serial in other_valid:
        cases.append((f"other valid {serial}", lambda s=serial: campaign.redeem(
            other, s, key=f"v-{s}"), 201, None))
    cases += [
        ("bad code", lambda: campaign.redeem(merchant, rejected_1, code="ABCD1234",
                                             key="bad-code"), 400, "invalid_check_code"),
        ("wrong total", lambda: campaign.redeem(merchant, rejected_2, total_fen=8000,
                                                lines=basket(7000), key="total"),
         400, "statement_total_mismatch"),
        ("cash line", lambda: campaign.redeem(merchant, rejected_3, total_fen=8000,
                                              lines=lines_of_cash, key="cash"),
         422, "cash_equivalent_item"),
        ("unknown", lambda: campaign.redeem(merchant, make_serial(1, TOWNSHIP, 999),
                                            key="unknown"), 404, "voucher_not_found"),
        ("other township", lambda: campaign.redeem(other, foreign, key="foreign"),
         403, "merchant_not_designated"),
        ("no key", lambda: requests.post(
            f"{campaign.base}/v1/campaigns/{CAMPAIGN_ID}/redemptions",
            json={"serial": valid[0]}, headers=merchant, timeout=30),
         400, "missing_idempotency_key"),
        # The same key of the other merchant is another key.
        ("same key other merchant", lambda: campaign.redeem(
            other, other_valid[0], key=f"v-{valid[0]}"), None, None),
    ]
    for number in range(3):
        cases.append((f"raced {number}", lambda n=number: campaign.redeem(
            merchant, raced, key=f"race-{n}"), None, None))
    for number in range(2):
        cases.append((f"retried {number}", lambda: campaign.redeem(
            merchant, keyed, key="retried"), 201, None))
    cases.append(("key reused a", lambda: campaign.redeem(merchant, changed_a,
                                                          key="reused"), None, None))
    cases.append(("key reused b", lambda: campaign.redeem(merchant, changed_b,
                                                          key="reused"), None, None))

    pool = eventlet.GreenPool(len(cases))
    responses = dict(zip([name for name, *_ in cases],
                         pool.imap(lambda case: case[1](), cases)))

    for name, _, status, code in cases:
        response = responses[name]
        if status is not None:
            assert response.status_code == status, (name, response.text)
        if code is not None:
            assert response.json()["error"] == code, (name, response.text)
    raced_statuses = Counter(responses[f"raced {n}"].status_code for n in range(3))
    assert raced_statuses == Counter({201: 1, 409: 2})
    assert responses["retried 0"].json() == responses["retried 1"].json()
    reused = sorted([responses["key reused a"].status_code,
                     responses["key reused b"].status_code])
    assert reused == [201, 409]
    counts = stored_counts(campaign)
    assert counts == {name: 10 + 5 + 1 + 1 + 1 for name in counts}, counts


@pytest.fixture
def slow_batches(monkeypatch):
    """One call slot, a 3 s request deadline, and a service whose first two calls
    take 2 s each."""
    monkeypatch.setattr(batching, "DEFAULT_MAX_IN_FLIGHT", 1)
    monkeypatch.setattr(gateway_service, "DEFAULT_RPC_TIMEOUT_S", 3.0)
    slow = {"calls": 0}
    redeem_batch = redemption_service.redeeming_pg.redeem_batch

    def slow_redeem_batch(*args, **kwargs):
        slow["calls"] += 1
        if slow["calls"] <= 2:
            eventlet.sleep(2.0)
        return redeem_batch(*args, **kwargs)

    monkeypatch.setattr(redemption_service.redeeming_pg, "redeem_batch",
                        slow_redeem_batch)
    return slow


def test_sender_deadline_spares_the_others(slow_batches, campaign):
    first, early, late = campaign.print_and_issue(TOWNSHIP, [301, 302, 303])
    merchant = campaign.headers["merchant"]
    # first: sent alone at 0 s, back at 2 s. early: waits from 0.1 s and sends
    # itself with late at 2 s; its deadline passes at 3.1 s, before that call
    # returns. late (deadline 4.9 s) then goes again alone, and that call is quick.
    first_call = eventlet.spawn(campaign.redeem, merchant, first)
    eventlet.sleep(0.1)
    early_call = eventlet.spawn(campaign.redeem, merchant, early)
    eventlet.sleep(1.8)
    late_call = eventlet.spawn(campaign.redeem, merchant, late)
    assert first_call.wait().status_code == 201
    assert early_call.wait().status_code == 504
    late_response = late_call.wait()
    assert late_response.status_code == 201, late_response.text
    assert slow_batches["calls"] == 3
