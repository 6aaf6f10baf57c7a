"""Issuance over the real broker on SQLite and PostgreSQL: a township's whole cycle.

Events from the other bureaus come in. The township then prints, hands out (also to
a care home's manager), voids, reissues, ends the hand-out and checks that every
printed voucher is accounted for. Each rejection returns its reason code.
"""

import base64

import pytest
from issuance_setup import (CAMPAIGN_ID, HOME, M1, M2, MAC_KEY, TOWN_A, TOWN_B, Feed,
                            at, wait_for)
from nameko.standalone.rpc import ServiceRpcProxy

from aixin.clock import FileClock
from aixin.errors import DomainError
from aixin.vouchers import verify_check_code
from services.issuance.service import IssuanceService

TOWNSHIP_A = {"role": "township", "scope": TOWN_A, "name": "城关镇经办人",
              "token_id": "ta", "correlation_id": "c1"}
TOWNSHIP_B = {**TOWNSHIP_A, "scope": TOWN_B, "name": "裴城镇经办人", "token_id": "tb"}
FINANCE = {**TOWNSHIP_A, "role": "finance", "scope": None, "name": "财政局"}


@pytest.fixture
def clock(tmp_path):
    clock = FileClock(tmp_path / "clock.json")
    clock.set(at(10))
    return clock


@pytest.fixture
def issuance(container_factory, amqp_uri, database_url_for, clock):
    config = {"AMQP_URI": amqp_uri, "AIXIN_CLOCK": f"file:{clock.path}",
              "ISSUANCE_DATABASE_URL": database_url_for("issuance"),
              "VOUCHER_MAC_KEY": MAC_KEY}
    container_factory(IssuanceService, config).start()
    feed = Feed(amqp_uri)
    with ServiceRpcProxy("issuance", config) as proxy:
        yield proxy, feed
    feed.close()


class Township:
    """Sends one township's commands with fresh idempotency keys."""

    def __init__(self, proxy, actor):
        self.proxy = proxy
        self.actor = actor
        self.count = 0

    def __call__(self, method, payload, key=None):
        self.count += 1
        key = key or f"{self.actor['scope']}-{method}-{self.count}"
        return getattr(self.proxy, method)(self.actor, CAMPAIGN_ID,
                                           self.actor["scope"], payload, key)


def rejection(call, *args) -> str:
    with pytest.raises(DomainError) as caught:
        call(*args)
    return caught.value.code


def voucher_state(proxy, serial):
    return proxy.get_voucher(TOWNSHIP_A, CAMPAIGN_ID, TOWN_A, serial)["state"]


def test_whole_cycle(issuance, clock):
    proxy, feed = issuance
    feed.set_up_campaign()
    wait_for(lambda: _ready(proxy))
    town_a = Township(proxy, TOWNSHIP_A)
    town_b = Township(proxy, TOWNSHIP_B)

    # Printing: 6 eligible plus 10 percent spare, rounded up, is 7 vouchers.
    batch = town_a("order_print_batch", {"merchant_code": M1, "operator": "李四"})
    assert batch["count"] == 7
    serials = [voucher["serial"] for voucher in batch["vouchers"]]
    for voucher in batch["vouchers"]:
        assert verify_check_code(MAC_KEY.encode(), voucher["serial"],
                                 voucher["check_code"])
    codes = {voucher["serial"]: voucher["check_code"] for voucher in batch["vouchers"]}
    assert rejection(town_a, "order_print_batch",
                     {"merchant_code": M2, "operator": "李四"}) == \
        "merchant_not_designated"
    b_serials = [voucher["serial"] for voucher in town_b(
        "order_print_batch", {"merchant_code": M2, "operator": "王五"})["vouchers"]]

    # Before the funds arrive township B cannot hand out.
    assert rejection(town_b, "hand_out", {
        "serial": b_serials[0], "beneficiary_id": "b7", "recipient_kind": "self",
        "operator": "王五"}) == "funds_not_allocated"

    first = town_a("hand_out", {"serial": serials[0], "beneficiary_id": "b1",
                                "recipient_kind": "self", "operator": "村干部甲"})
    assert first["late"] is False
    assert rejection(town_a, "hand_out", {
        "serial": serials[1], "beneficiary_id": "b1", "recipient_kind": "self",
        "operator": "村干部甲"}) == "beneficiary_already_has_voucher"
    assert rejection(town_a, "hand_out", {
        "serial": b_serials[0], "beneficiary_id": "b2", "recipient_kind": "self",
        "operator": "村干部甲"}) == "serial_of_other_township"
    assert rejection(town_a, "hand_out", {
        "serial": serials[0], "beneficiary_id": "b2", "recipient_kind": "self",
        "operator": "村干部甲"}) == "voucher_not_in_stock"

    # The care home's manager collects both residents' vouchers in one operation.
    collected = town_a("collect_for_institution", {
        "institution": HOME, "manager_name": "王院长",
        "manager_masked_id": "411103********0099", "manager_phone": "13800000000",
        "operator": "民政办"})
    assert [item["recipient_kind"] for item in collected["issued"]] == \
        ["institution_manager"] * 2
    assert [item["serial"] for item in collected["issued"]] == serials[1:3]
    assert rejection(town_a, "collect_for_institution", {
        "institution": HOME, "manager_name": "王院长",
        "manager_masked_id": "411103199001010099", "manager_phone": "13800000000",
        "operator": "民政办"}) == "invalid_request"

    town_a("hand_out", {"serial": serials[3], "beneficiary_id": "b2",
                        "recipient_kind": "family", "operator": "村干部甲"})
    # b3 cannot be reached: the voucher meant for them is voided from stock.
    voided = town_a("void_voucher", {"serial": serials[4], "reason": "unreachable",
                                     "beneficiary_id": "b3", "operator": "村干部乙"})
    assert voided["state"] == "voided"
    assert rejection(town_a, "void_voucher", {
        "serial": serials[0], "reason": "unreachable", "operator": "村干部甲"}) == \
        "void_reason_not_allowed"

    # b2's voucher is lost: it is voided and a stock voucher replaces it.
    reissued = town_a("reissue_voucher", {"serial": serials[3], "reason": "lost",
                                          "operator": "村干部甲"})
    assert reissued["voided"]["serial"] == serials[3]
    assert reissued["issued"]["serial"] == serials[5]
    assert reissued["issued"]["replaces_serial"] == serials[3]
    assert reissued["issued"]["recipient_kind"] == "family"

    feed.redeem(serials[0], TOWN_A, M1)
    wait_for(lambda: voucher_state(proxy, serials[0]) == "redeemed")
    assert rejection(town_a, "reissue_voucher", {
        "serial": serials[0], "reason": "lost", "operator": "村干部甲"}) == \
        "voucher_already_redeemed"

    # After Spring Festival a hand-out is allowed but late.
    clock.set(at(25))
    late = town_a("hand_out", {"serial": serials[6], "beneficiary_id": "b4",
                               "recipient_kind": "self", "operator": "村干部乙"})
    assert late["late"] is True

    # Civil affairs removes b6: the care home voucher is voided, the entitlement ends.
    feed.send("roster_amended", {
        "campaign_id": CAMPAIGN_ID, "amendment_id": "a1", "kind": "remove",
        "beneficiary": _person_b6(), "reason": "已故", "operator": "民政局"})
    b6_serial = collected["issued"][1]["serial"]
    wait_for(lambda: voucher_state(proxy, b6_serial) == "voided")
    assert proxy.get_voucher(TOWNSHIP_A, CAMPAIGN_ID, TOWN_A, b6_serial)[
        "void_reason"] == "roster_amendment"

    extra = town_a("order_print_batch", {"merchant_code": M1, "count": 2,
                                         "operator": "李四"})
    ended = town_a("end_handout", {"operator": "镇长"})
    assert ended["voided_serials"] == [v["serial"] for v in extra["vouchers"]]

    check = proxy.check_identities(FINANCE, CAMPAIGN_ID, TOWN_A)
    assert check["holds"] is True
    assert check["broken"] == []
    assert (check["printed"], check["in_stock"], check["handed_out"],
            check["voided"]) == (9, 0, 4, 5)
    assert (check["outstanding"], check["redeemed"]) == (3, 1)

    progress = proxy.progress(TOWNSHIP_A, CAMPAIGN_ID, TOWN_A)
    assert (progress["eligible"], progress["handed_out"], progress["late"]) == (5, 4, 1)
    assert progress["remaining"] == 1
    villages = {row["village"]: row for row in progress["villages"]}
    assert villages["西村"]["voided"] == 1
    assert villages["西村"]["remaining"] == 1
    assert villages["东村"]["handed_out"] == 2

    found = proxy.search_beneficiaries(TOWNSHIP_A, CAMPAIGN_ID, TOWN_A,
                                       masked_id="411103****0002")
    assert [row["beneficiary_id"] for row in found["beneficiaries"]] == ["b2"]
    assert len(proxy.search_beneficiaries(TOWNSHIP_A, CAMPAIGN_ID, TOWN_A,
                                          village="东村")["beneficiaries"]) == 2

    public = proxy.public_voucher(serials[0], codes[serials[0]].lower())
    assert public["state"] == "redeemed"
    assert public["handed_out_to"] == "张*明"
    assert public["merchant_code"] == M1
    assert public["redeemed_at"].startswith("2023-01-20T10:00:00")
    wrong = rejection(proxy.public_voucher, serials[0], "AAAAAAAA")
    unknown = rejection(proxy.public_voucher, "011234567890123450", "AAAAAAAA")
    assert wrong == unknown == "voucher_not_found"

    _check_documents(proxy, batch["batch_id"])

    # After the redemption deadline nothing is handed out, even with funds.
    feed.allocate(TOWN_B, 2)
    wait_for(lambda: proxy.progress(TOWNSHIP_B, CAMPAIGN_ID, TOWN_B)["allocated_fen"])
    clock.set(at(1, month=3))
    assert rejection(town_b, "hand_out", {
        "serial": b_serials[0], "beneficiary_id": "b7", "recipient_kind": "self",
        "operator": "王五"}) == "handout_after_deadline"


def test_replay_returns_stored_rejection(issuance):
    proxy, feed = issuance
    feed.set_up_campaign()
    wait_for(lambda: _ready(proxy))
    town_a = Township(proxy, TOWNSHIP_A)
    payload = {"serial": "011234567890123450", "beneficiary_id": "b1",
               "recipient_kind": "self", "operator": "村干部甲"}
    first = rejection(town_a, "hand_out", payload, "same-key")
    second = rejection(town_a, "hand_out", payload, "same-key")
    assert first == second


def test_other_township_scope_is_hidden(issuance):
    proxy, feed = issuance
    feed.set_up_campaign()
    wait_for(lambda: _ready(proxy))
    assert rejection(proxy.progress, TOWNSHIP_B, CAMPAIGN_ID, TOWN_A) == "not_found"


def _ready(proxy):
    try:
        progress = proxy.progress(FINANCE, CAMPAIGN_ID, TOWN_A)
        with_b = proxy.progress(FINANCE, CAMPAIGN_ID, TOWN_B)
    except DomainError:
        return False
    return (progress["eligible"] == 6 and progress["allocated_fen"] > 0
            and with_b["eligible"] == 2 and _campaign_known(proxy))


def _campaign_known(proxy):
    try:
        proxy.list_print_batches(FINANCE, CAMPAIGN_ID, TOWN_A)
        return len(proxy.search_beneficiaries(
            FINANCE, CAMPAIGN_ID, TOWN_A)["beneficiaries"]) == 6
    except DomainError:
        return False


def _person_b6():
    from issuance_setup import PEOPLE
    return PEOPLE[5]


def _check_documents(proxy, batch_id):
    pdf = proxy.print_file(TOWNSHIP_A, CAMPAIGN_ID, TOWN_A, batch_id)
    assert base64.b64decode(pdf["content_b64"]).startswith(b"%PDF")
    listing = proxy.batch_list(TOWNSHIP_A, CAMPAIGN_ID, TOWN_A, batch_id)
    assert base64.b64decode(listing["content_b64"]).startswith(b"PK")
    village = proxy.sign_off_sheet(TOWNSHIP_A, CAMPAIGN_ID, TOWN_A, village="东村",
                                   file_format="xlsx")
    assert base64.b64decode(village["content_b64"]).startswith(b"PK")
    home = proxy.sign_off_sheet(TOWNSHIP_A, CAMPAIGN_ID, TOWN_A, institution=HOME)
    assert base64.b64decode(home["content_b64"]).startswith(b"%PDF")


def test_start_without_key_fails(container_factory, amqp_uri, tmp_path):
    config = {"AMQP_URI": amqp_uri, "AIXIN_CLOCK": "system",
              "ISSUANCE_DATABASE_URL": f"sqlite:///{tmp_path / 'issuance.db'}",
              "VOUCHER_MAC_KEY": ""}
    container = container_factory(IssuanceService, config)
    with pytest.raises(RuntimeError, match="VOUCHER_MAC_KEY"):
        container.start()
