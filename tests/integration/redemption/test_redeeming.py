"""Redeeming vouchers through the gateway: the valid cases and every rejection."""

import json
from datetime import datetime

import eventlet
import requests
from sqlalchemy import select

from aixin.clock import CAMPAIGN_TZ
from aixin.vouchers import make_serial
from aixin.plumbing import outbox
from services.redemption.models import redemptions
from tests.integration.redemption.redemption_setup import (
    CAMPAIGN_ID, MERCHANT, OTHER_TOWNSHIP, TOWNSHIP, basket)

RACERS = 50


def redemption_events(campaign) -> list[dict]:
    with campaign.database.reading() as session:
        bodies = session.execute(select(outbox.c.body).where(
            outbox.c.event_type == "voucher_redeemed")).scalars().all()
    return [json.loads(body)["data"] for body in bodies]


class TestRedeeming:
    def test_below_and_above_face_value(self, campaign):
        below, above = campaign.print_and_issue(TOWNSHIP, [1, 2])
        merchant = campaign.headers["merchant"]

        small = campaign.redeem(merchant, below, total_fen=12345)
        large = campaign.redeem(merchant, above, total_fen=41000)

        assert small.status_code == 201, small.text
        assert small.json()["voucher_part_fen"] == 12345
        assert small.json()["paid_by_person_fen"] == 0
        assert large.status_code == 201, large.text
        assert large.json()["voucher_part_fen"] == 30000
        assert large.json()["paid_by_person_fen"] == 11000
        assert large.json()["township_code"] == TOWNSHIP
        assert large.json()["merchant_code"] == MERCHANT
        events = {event["serial"]: event for event in redemption_events(campaign)}
        assert events[above]["voucher_part_fen"] == 30000
        assert events[above]["paid_by_person_fen"] == 11000
        assert events[below]["total_fen"] == 12345

    def test_second_redemption_rejected(self, campaign):
        (serial,) = campaign.print_and_issue(TOWNSHIP, [3])
        merchant = campaign.headers["merchant"]
        assert campaign.redeem(merchant, serial, key="first").status_code == 201

        again = campaign.redeem(merchant, serial, key="second")

        assert again.status_code == 409
        assert again.json()["error"] == "voucher_already_redeemed"
        assert "已经核销过" in again.json()["message"]

    def test_other_township_merchant_rejected(self, campaign):
        (serial,) = campaign.print_and_issue(OTHER_TOWNSHIP, [4])

        response = campaign.redeem(campaign.headers["merchant"], serial)

        assert response.status_code == 403
        assert response.json()["error"] == "merchant_not_designated"

    def test_after_deadline_rejected(self, campaign):
        (serial,) = campaign.print_and_issue(TOWNSHIP, [5])
        campaign.clock.set(datetime(2023, 3, 1, 0, 0, 1, tzinfo=CAMPAIGN_TZ))

        response = campaign.redeem(campaign.headers["merchant"], serial)

        assert response.status_code == 422
        assert response.json()["error"] == "redemption_deadline_passed"
        assert "2023-02-28" in response.json()["message"]

    def test_statement_not_adding_up_rejected(self, campaign):
        serial_a, serial_b = campaign.print_and_issue(TOWNSHIP, [6, 7])
        merchant = campaign.headers["merchant"]
        wrong_line = basket(8000)
        wrong_line[0]["amount_fen"] += 1

        total_off = campaign.redeem(merchant, serial_a, total_fen=8000,
                                    lines=basket(7000))
        line_off = campaign.redeem(merchant, serial_b, total_fen=8001,
                                   lines=wrong_line)

        assert total_off.status_code == 400
        assert total_off.json()["error"] == "statement_total_mismatch"
        assert line_off.status_code == 400
        assert line_off.json()["error"] == "statement_line_mismatch"
        assert campaign.states([serial_a, serial_b]) == {"issued"}

    def test_cash_equivalent_rejected(self, campaign):
        (serial,) = campaign.print_and_issue(TOWNSHIP, [8])
        lines = [{"item": "购物卡", "category": "gift_card", "quantity": 1,
                  "unit_price_fen": 30000, "amount_fen": 30000}]

        response = campaign.redeem(campaign.headers["merchant"], serial,
                                   total_fen=30000, lines=lines)

        assert response.status_code == 422
        assert response.json()["error"] == "cash_equivalent_item"

    def test_forged_check_code_rejected(self, campaign):
        (serial,) = campaign.print_and_issue(TOWNSHIP, [9])

        response = campaign.redeem(campaign.headers["merchant"], serial,
                                   code="ABCD1234")

        assert response.status_code == 400
        assert response.json()["error"] == "invalid_check_code"
        assert campaign.states([serial]) == {"issued"}

    def test_unissued_and_unknown_rejected(self, campaign):
        (printed,) = campaign.print_and_issue(TOWNSHIP, [10], issue=False)
        merchant = campaign.headers["merchant"]

        not_issued = campaign.redeem(merchant, printed)
        unknown = campaign.redeem(merchant, make_serial(1, TOWNSHIP, 999))

        assert not_issued.json()["error"] == "voucher_not_issued"
        assert unknown.status_code == 404
        assert unknown.json()["error"] == "voucher_not_found"

    def test_idempotent_retry_returns_original(self, campaign):
        (serial,) = campaign.print_and_issue(TOWNSHIP, [11])
        merchant = campaign.headers["merchant"]

        first = campaign.redeem(merchant, serial, key="till-7-0001")
        retry = campaign.redeem(merchant, serial, key="till-7-0001")
        changed = campaign.redeem(merchant, serial, key="till-7-0001", total_fen=9000)

        assert first.status_code == 201
        assert retry.status_code == 201
        assert retry.json() == first.json()
        assert changed.status_code == 409
        assert changed.json()["error"] == "idempotency_key_reused"
        assert len(redemption_events(campaign)) == 1

    def test_missing_idempotency_key_rejected(self, campaign):
        (serial,) = campaign.print_and_issue(TOWNSHIP, [12])
        response = requests.post(
            f"{campaign.base}/v1/campaigns/{CAMPAIGN_ID}/redemptions",
            json={"serial": serial, "check_code": "X", "till_transaction_id": "T1",
                  "lines": basket(100), "total_fen": 100},
            headers=campaign.headers["merchant"], timeout=10)

        assert response.status_code == 400
        assert response.json()["error"] == "missing_idempotency_key"

    def test_fifty_way_race_one_winner(self, campaign):
        (serial,) = campaign.print_and_issue(TOWNSHIP, [13])
        merchant = campaign.headers["merchant"]
        pool = eventlet.GreenPool(RACERS)

        responses = list(pool.imap(
            lambda number: campaign.redeem(merchant, serial, key=f"race-{number}"),
            range(RACERS)))

        statuses = sorted(response.status_code for response in responses)
        assert statuses == [201] + [409] * (RACERS - 1)
        rejected = [response.json() for response in responses
                    if response.status_code == 409]
        assert {body["error"] for body in rejected} == {"voucher_already_redeemed"}
        assert all("一张券只能使用一次" in body["message"] for body in rejected)
        with campaign.database.reading() as session:
            rows = session.execute(select(redemptions.c.redemption_id).where(
                redemptions.c.serial == serial)).all()
        assert len(rows) == 1
        assert len(redemption_events(campaign)) == 1


class TestMerchantScope:
    def test_merchant_reads_only_its_own(self, campaign):
        (serial,) = campaign.print_and_issue(TOWNSHIP, [14])
        redeemed = campaign.redeem(campaign.headers["merchant"], serial).json()
        url = f"{campaign.base}/v1/campaigns/{CAMPAIGN_ID}/redemptions"

        own = requests.get(url, headers=campaign.headers["merchant"], timeout=10)
        other = requests.get(url, headers=campaign.headers["other_merchant"],
                             timeout=10)
        other_by_code = requests.get(url, params={"merchant_code": MERCHANT},
                                     headers=campaign.headers["other_merchant"],
                                     timeout=10)
        other_by_id = requests.get(f"{url}/{redeemed['redemption_id']}",
                                   headers=campaign.headers["other_merchant"],
                                   timeout=10)
        finance = requests.get(url, headers=campaign.headers["finance"], timeout=10)

        assert [item["serial"] for item in own.json()] == [serial]
        assert other.json() == []
        assert other_by_code.status_code == 404
        assert other_by_id.status_code == 404
        assert [item["serial"] for item in finance.json()] == [serial]

    def test_commerce_cannot_redeem(self, campaign):
        (serial,) = campaign.print_and_issue(TOWNSHIP, [15])

        response = campaign.redeem(campaign.headers["commerce"], serial)

        assert response.status_code == 403
