"""Each cash-out rule, through the gateway and the redemption service: it flags the
case planted for it and none of the ordinary redemptions around it.

Every test redeems a planted case and ordinary redemptions that come close to the
rule without meeting it (one voucher short, spread out in time, a basket too small),
then reads ``/cashout-flags`` as commerce does before its audit. The thresholds are
the defaults except the volume per store, which is small enough to reach.
"""

import json
from datetime import datetime, timedelta

import requests
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import select

from aixin import events
from aixin.clock import CAMPAIGN_TZ
from aixin.plumbing import outbox
from aixin.vouchers import check_code, make_serial
from services.redemption.domain.uscc import make_uscc
from services.redemption.models import roster_removals
from tests.integration.redemption.redemption_setup import (
    CAMPAIGN_ID, ISSUED_AT, MAC_KEY, MERCHANT, TOWNSHIP, basket, wait_for)

CAMPAIGN_OVERRIDES = {"cashout_thresholds": {"merchant_volume_max_per_store": 10}}
DAY = datetime(2023, 1, 20, tzinfo=CAMPAIGN_TZ)
SMALL_SHOP = make_uscc("411103", 3)


def at(hour: int, minute: int = 0) -> datetime:
    return DAY + timedelta(hours=hour, minutes=minute)


def issue(campaign, vouchers) -> list[str]:
    """Print and hand out ``(sequence, village, institution)`` vouchers of TOWNSHIP."""
    serials = [make_serial(1, TOWNSHIP, sequence) for sequence, _, _ in vouchers]
    campaign.publish("vouchers_printed", {
        "campaign_id": CAMPAIGN_ID, "batch_id": f"batch-{serials[0]}",
        "township_code": TOWNSHIP, "merchant_code": MERCHANT, "serials": serials,
        "printed_at": ISSUED_AT})
    for serial, (_, village, institution) in zip(serials, vouchers, strict=True):
        campaign.publish("voucher_issued", {
            "campaign_id": CAMPAIGN_ID, "serial": serial,
            "beneficiary_id": beneficiary_of(serial), "beneficiary_name": "张三",
            "masked_id": "411103********1234", "township_code": TOWNSHIP,
            "village": village, "institution": institution, "recipient_kind": "self",
            "issued_at": ISSUED_AT, "late": False})
    wait_for(lambda: campaign.states(serials) == {"issued"})
    return serials


def issue_apart(campaign, first: int, count: int, institution=None) -> list[str]:
    """Vouchers of ``count`` villages, with no two serials next to each other."""
    return issue(campaign, [(first + 2 * number, f"村{first + 2 * number}", institution)
                            for number in range(count)])


def beneficiary_of(serial: str) -> str:
    return f"b-{serial[-7:]}"


def redeem(campaign, serial, moment, lines=None, total_fen=None, headers=None,
           **fields) -> str:
    """Redeem at the simulated ``moment``; return the redemption id."""
    campaign.clock.set(moment)
    if lines is None:
        total_fen = total_fen or 8000 + int(serial[-4:-1])  # a different basket each
        lines = basket(total_fen)
    body = {"serial": serial, "check_code": check_code(MAC_KEY.encode(), serial),
            "till_transaction_id": f"T{serial[-7:]}", "lines": lines,
            "total_fen": total_fen, **fields}
    response = requests.post(
        f"{campaign.base}/v1/campaigns/{CAMPAIGN_ID}/redemptions", json=body,
        headers={**(headers or campaign.headers["merchant"]),
                 "Idempotency-Key": f"k-{serial}"}, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["redemption_id"]


def redeem_all(campaign, serials, first, step_minutes, **kwargs) -> set[str]:
    return {redeem(campaign, serial, first + timedelta(minutes=step * step_minutes),
                   **kwargs)
            for step, serial in enumerate(serials)}


def flags_of(campaign) -> list[dict]:
    response = requests.get(
        f"{campaign.base}/v1/campaigns/{CAMPAIGN_ID}/cashout-flags",
        headers=campaign.headers["commerce"], timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["flags"]


def assert_flagged(campaign, rule: str, planted: list[set], ordinary: set) -> list:
    """Exactly the planted groups are flagged, all by ``rule``; nothing ordinary."""
    flags = flags_of(campaign)
    assert {flag["rule"] for flag in flags} == {rule}
    groups = sorted(sorted(flag["redemption_ids"]) for flag in flags)
    assert groups == sorted(sorted(group) for group in planted)
    flagged = {rid for flag in flags for rid in flag["redemption_ids"]}
    assert not flagged & ordinary
    return flags


def lines_of(*items) -> list[dict]:
    return [{"item": name, "category": "grain", "quantity": quantity,
             "unit_price_fen": price, "amount_fen": quantity * price}
            for name, quantity, price in items]


def total_of(lines) -> int:
    return sum(line["amount_fen"] for line in lines)


class TestCashoutRulesThroughTheService:
    def test_village_burst(self, campaign):
        burst = issue(campaign, [(n, "红旗村", None) for n in (1, 3, 5, 7, 9)])
        short = issue(campaign, [(n, "东庄村", None) for n in (11, 13, 15, 17)])
        spread = issue(campaign, [(n, "西庄村", None) for n in (21, 23, 25, 27, 29)])

        planted = redeem_all(campaign, burst, at(10), 3)
        ordinary = (redeem_all(campaign, short, at(10, 1), 3)
                    | redeem_all(campaign, spread, at(12), 35))

        (flag,) = assert_flagged(campaign, "village_burst", [planted], ordinary)
        assert flag["figures"]["village_code"] == "红旗村"
        assert flag["figures"]["count"] == 5

    def test_consecutive_serials(self, campaign):
        run = issue(campaign, [(n, f"村{n}", None) for n in range(101, 106)])
        short = issue(campaign, [(n, f"村{n}", None) for n in range(111, 115)])
        slow = issue(campaign, [(n, f"村{n}", None) for n in range(121, 126)])

        planted = redeem_all(campaign, run, at(10), 4)
        ordinary = (redeem_all(campaign, short, at(10, 2), 4)
                    | redeem_all(campaign, slow, at(11), 35))

        (flag,) = assert_flagged(campaign, "consecutive_serials", [planted], ordinary)
        assert flag["figures"]["first_serial"] == run[0]
        assert flag["figures"]["last_serial"] == run[-1]

    def test_identical_baskets(self, campaign):
        repeated = lines_of(("食用油 5L", 2, 7990), ("大米 10kg", 1, 6500),
                            ("鸡蛋 30枚", 2, 2450))
        four_times = lines_of(("面粉 5kg", 1, 3200), ("挂面 1kg", 2, 890),
                              ("食盐 400g", 3, 300))
        two_lines = lines_of(("猪肉 1kg", 2, 2800), ("牛奶 1箱", 1, 5600))
        copies = issue_apart(campaign, 201, 5)
        fewer = issue_apart(campaign, 221, 4)
        small = issue_apart(campaign, 241, 5)

        planted = redeem_all(campaign, copies, at(9), 40, lines=repeated,
                             total_fen=total_of(repeated))
        ordinary = (redeem_all(campaign, fewer, at(9, 5), 40, lines=four_times,
                               total_fen=total_of(four_times))
                    | redeem_all(campaign, small, at(9, 10), 40, lines=two_lines,
                                 total_fen=total_of(two_lines)))

        (flag,) = assert_flagged(campaign, "identical_baskets", [planted], ordinary)
        assert flag["figures"]["count"] == 5
        assert flag["figures"]["basket_total_fen"] == total_of(repeated)

    def test_single_line_face_value(self, campaign):
        one, two, below, above, split = issue_apart(campaign, 301, 5)
        gift = lines_of(("米面油礼包", 1, 30000))
        doubled = lines_of(("米面油礼包", 2, 15000))
        almost = lines_of(("米面油礼包", 1, 29900))
        more = lines_of(("米面油礼包", 1, 30100))
        halves = lines_of(("大米 10kg", 1, 15000), ("食用油 5L", 1, 15000))

        planted = [{redeem(campaign, one, at(10), gift, 30000)},
                   {redeem(campaign, two, at(10, 20), doubled, 30000)}]
        ordinary = {redeem(campaign, below, at(10, 40), almost, 29900),
                    redeem(campaign, above, at(11), more, 30100),
                    redeem(campaign, split, at(11, 20), halves, 30000)}

        flags = assert_flagged(campaign, "single_line_face_value", planted, ordinary)
        assert {flag["figures"]["amount_fen"] for flag in flags} == {30000}

    def test_institution_basket(self, campaign):
        by_session = issue_apart(campaign, 401, 5, institution="城关敬老院")
        by_window = issue_apart(campaign, 421, 5, institution="东城敬老院")
        short = issue_apart(campaign, 441, 4, institution="西城敬老院")

        # One till session spread over hours, and one quick series without a session.
        planted = [redeem_all(campaign, by_session, at(9), 40, till_session="S-0120-1"),
                   redeem_all(campaign, by_window, at(9, 5), 4)]
        ordinary = redeem_all(campaign, short, at(9, 10), 2, till_session="S-0120-2")

        flags = assert_flagged(campaign, "institution_basket", planted, ordinary)
        assert {flag["figures"]["institution_id"] for flag in flags} == {
            "城关敬老院", "东城敬老院"}

    def test_outside_opening_hours(self, campaign):
        late, early, opening, closing = issue_apart(campaign, 501, 4)

        planted = [{redeem(campaign, late, at(22, 30))},
                   {redeem(campaign, early, at(31, 45))}]  # 07:45 the next day
        ordinary = {redeem(campaign, opening, at(8)),
                    redeem(campaign, closing, at(21, 59))}

        flags = assert_flagged(campaign, "outside_opening_hours", planted, ordinary)
        assert {flag["figures"]["opening_hours"] for flag in flags} == {"08:00-22:00"}

    def test_removed_from_roster(self, campaign):
        # Issuance does not run here, so nothing voids the removed persons' vouchers:
        # this is a redemption that reaches the till before the void does.
        after, before, reinstated = issue_apart(campaign, 601, 3)
        removal_of(campaign, before, "remove", at(9, 30))
        ordinary = {redeem(campaign, before, at(9))}  # before its holder left
        removal_of(campaign, after, "remove", at(10))
        removal_of(campaign, reinstated, "remove", at(10))
        removal_of(campaign, reinstated, "add", at(10, 30))

        planted = {redeem(campaign, after, at(11))}
        ordinary.add(redeem(campaign, reinstated, at(11, 10)))

        (flag,) = assert_flagged(campaign, "removed_from_roster", [planted], ordinary)
        assert flag["figures"]["beneficiary_id"] == beneficiary_of(after)

    def test_merchant_volume(self, campaign):
        shop = designate_small_shop(campaign)
        shop_vouchers = issue_apart(campaign, 701, 11)
        regular_vouchers = issue_apart(campaign, 741, 12)

        ordinary = redeem_all(campaign, regular_vouchers, at(9), 5)
        planted = redeem_all(campaign, shop_vouchers[:10], at(9, 2), 5, headers=shop)
        assert flags_of(campaign) == []  # 10 vouchers for 1 store: at the threshold
        planted.add(redeem(campaign, shop_vouchers[10], at(11), headers=shop))

        (flag,) = assert_flagged(campaign, "merchant_volume", [planted], ordinary)
        assert flag["figures"] == {"merchant_id": SMALL_SHOP, "vouchers": 11,
                                   "stores": 1, "max_per_store": 10}


def announced(campaign) -> list[dict]:
    """Run the open-flag check now, as the service's timer does every few seconds,
    and return the data of every ``cashout_flags_changed`` event, oldest first."""
    with ServiceRpcProxy("redemption", {"AMQP_URI": campaign.amqp_uri}) as proxy:
        proxy.check_cashout_flags()
    return recorded(campaign)


def recorded(campaign) -> list[dict]:
    """Return the data of every ``cashout_flags_changed`` event, oldest first."""
    with campaign.database.reading() as session:
        bodies = session.execute(select(outbox.c.body).where(
            outbox.c.event_type == "cashout_flags_changed")
            .order_by(outbox.c.position)).scalars().all()
    return [json.loads(body)["data"] for body in bodies]


class TestOpenFlagsAnnounced:
    def test_flags_announced_until_the_audit_closes_them(self, campaign):
        burst = issue(campaign, [(n, "红旗村", None) for n in (1, 3, 5, 7, 9)])
        spread = issue(campaign, [(n, "西庄村", None) for n in (21, 23)])
        planted = redeem_all(campaign, burst, at(10), 3)
        (first,) = announced(campaign)
        assert announced(campaign) == [first]  # nothing changed since
        events.spec_of("cashout_flags_changed").schema().load(first)
        assert first["version"] == 1
        (flag,) = first["open_flags"]
        assert flag["rule"] == "village_burst"
        assert flag["merchant_code"] == MERCHANT
        assert flag["label"] == "同村消费券短时间内集中核销"
        assert "红旗村" in flag["explanation"]
        assert {item["redemption_id"] for item in flag["redemptions"]} == planted
        assert {item["township_code"] for item in flag["redemptions"]} == {TOWNSHIP}
        assert {item["serial"] for item in flag["redemptions"]} == set(burst)

        redeem_all(campaign, spread, at(13), 60)  # ordinary: the flags stay as they are
        assert announced(campaign) == [first]
        audit = requests.post(
            f"{campaign.base}/v1/campaigns/{CAMPAIGN_ID}/merchants/{MERCHANT}/audits",
            json={"period_from": "2023-01-20", "period_to": "2023-01-20",
                  "rejections": []}, headers=campaign.headers["commerce"], timeout=10)
        assert audit.status_code == 201, audit.text
        # The audit announces the flags it closed itself, in its own transaction.
        _, closed = recorded(campaign)
        assert (closed["version"], closed["open_flags"]) == (2, [])
        # The rule still finds the case; the audit has decided it, so it is closed.
        assert [flag["rule"] for flag in flags_of(campaign)] == ["village_burst"]
        assert len(announced(campaign)) == 2  # the next check agrees

    def test_nothing_announced_without_flags(self, campaign):
        ordinary = issue_apart(campaign, 801, 3)
        redeem_all(campaign, ordinary, at(10), 45)
        assert announced(campaign) == []


def removal_of(campaign, serial: str, kind: str, moment: datetime) -> None:
    """Announce a roster amendment of the voucher's holder and wait until it applies."""
    beneficiary_id = beneficiary_of(serial)
    campaign.publish("roster_amended", {
        "campaign_id": CAMPAIGN_ID, "amendment_id": f"a-{kind}-{serial}", "kind": kind,
        "beneficiary": {
            "beneficiary_id": beneficiary_id, "name": "王五",
            "masked_id": "411103********9012", "township_code": TOWNSHIP,
            "township_name": "城关镇", "village": f"村{serial[-4:-1]}",
            "categories": ["rural_dibao"], "support_mode": "dispersed"},
        "reason": "deceased" if kind == "remove" else "wrongly_omitted",
        "operator": "民政局"}, occurred_at=moment, producer="roster")

    def applied():
        with campaign.database.reading() as session:
            listed = session.execute(select(roster_removals.c.beneficiary_id).where(
                roster_removals.c.beneficiary_id == beneficiary_id)).first()
        return (listed is not None) == (kind == "remove")

    wait_for(applied)


def designate_small_shop(campaign) -> dict:
    """Designate a one-store shop for TOWNSHIP and return its till's headers."""
    response = requests.post(
        f"{campaign.base}/v1/campaigns/{CAMPAIGN_ID}/merchants", json={
            "merchant_code": SMALL_SHOP, "name": "城关便民店", "above_size": True,
            "stores": 1, "township_codes": [TOWNSHIP], "valid_from": "2023-01-01",
            "valid_to": "2023-03-31"}, headers=campaign.headers["commerce"], timeout=10)
    assert response.status_code == 201, response.text
    return campaign.token("merchant", SMALL_SHOP)
