"""Events and helpers shared by the issuance integration tests.

One campaign with two townships: A has four persons in two villages and two
residents of one care home, B has two persons. Merchant M1 serves A, M2 serves B.
"""

from datetime import datetime

import eventlet

from aixin.clock import CAMPAIGN_TZ
from aixin.outbox import BrokerPublisher, build_event

CAMPAIGN_ID = "411103-2022-12"
TOWN_A = "411103001000"
TOWN_B = "411103002000"
M1 = "91411100MA00000001"
M2 = "91411100MA00000002"
HOME = "郾城区敬老院"
MAC_KEY = "test-voucher-mac-key-0123456789"

CAMPAIGN = {
    "campaign_id": CAMPAIGN_ID, "campaign_no": 1, "name": "郾城区爱心消费券",
    "district_code": "411103", "district_name": "郾城区", "face_value_fen": 30000,
    "snapshot_month": "2022-12", "funds_due": "2023-01-13",
    "spring_festival": "2023-01-22", "redemption_deadline": "2023-02-28",
    "joint_audit_date": "2023-03-06", "clearing_deadline": "2023-03-31",
    "spare_share_percent": 10, "cash_equivalent_categories": ["cash"],
}


def person(number, township, village, institution=None, name=None):
    return {"beneficiary_id": f"b{number}", "name": name or f"张{number}明",
            "masked_id": f"411103********{number:04d}", "township_code": township,
            "township_name": "城关镇" if township == TOWN_A else "裴城镇",
            "village": village, "categories": ["rural_dibao"],
            "support_mode": "institutional" if institution else "dispersed",
            "institution": institution}


PEOPLE = [
    person(1, TOWN_A, "东村"), person(2, TOWN_A, "东村"), person(3, TOWN_A, "西村"),
    person(4, TOWN_A, "西村"), person(5, TOWN_A, None, HOME),
    person(6, TOWN_A, None, HOME), person(7, TOWN_B, "南村"), person(8, TOWN_B, "南村"),
]


def merchant(code, name, township):
    return {"campaign_id": CAMPAIGN_ID, "merchant_code": code, "name": name,
            "township_codes": [township], "stores": 1, "valid_from": "2023-01-10",
            "valid_to": "2023-02-28"}


def at(day: int, hour: int = 10, month: int = 1) -> datetime:
    return datetime(2023, month, day, hour, tzinfo=CAMPAIGN_TZ)


def wait_for(predicate, timeout: float = 15.0):
    """Poll ``predicate`` until it returns a truthy value, and return that value."""
    with eventlet.Timeout(timeout):
        while True:
            value = predicate()
            if value:
                return value
            eventlet.sleep(0.1)


class Feed:
    """Publishes events as their producers' relays do."""

    PRODUCERS = {"campaign_created": "redemption", "merchant_designated": "redemption",
                 "voucher_redeemed": "redemption", "roster_published": "roster",
                 "roster_publication_completed": "roster", "roster_amended": "roster",
                 "funds_allocated": "settlement"}

    def __init__(self, amqp_uri):
        self.publishers = {name: BrokerPublisher(amqp_uri, name)
                           for name in set(self.PRODUCERS.values())}

    def send(self, event_type, data, occurred_at=None):
        envelope = build_event(event_type, data, occurred_at or at(9))
        self.publishers[self.PRODUCERS[event_type]].publish(envelope)

    def close(self):
        for publisher in self.publishers.values():
            publisher.close()

    def set_up_campaign(self):
        """Send the campaign, merchants, roster and township A's funds."""
        self.send("campaign_created", CAMPAIGN)
        self.send("merchant_designated", merchant(M1, "城关超市", TOWN_A))
        self.send("merchant_designated", merchant(M2, "裴城超市", TOWN_B))
        self.send("roster_published", {
            "campaign_id": CAMPAIGN_ID, "snapshot_id": "s1", "batch_no": 1,
            "batch_count": 1, "beneficiaries": PEOPLE})
        self.send("roster_publication_completed", {
            "campaign_id": CAMPAIGN_ID, "snapshot_id": "s1", "batch_count": 1,
            "beneficiary_count": 8, "townships": [
                {"code": TOWN_A, "name": "城关镇", "eligible": 6},
                {"code": TOWN_B, "name": "裴城镇", "eligible": 2}]})
        self.allocate(TOWN_A, 6)

    def allocate(self, township, persons):
        self.send("funds_allocated", {
            "campaign_id": CAMPAIGN_ID, "township_code": township,
            "amount_fen": persons * 30000, "transfer_id": f"t-{township}",
            "allocated_at": at(13).isoformat()})

    def redeem(self, serial, township, merchant_code):
        self.send("voucher_redeemed", {
            "campaign_id": CAMPAIGN_ID, "redemption_id": f"r-{serial}",
            "serial": serial, "township_code": township,
            "merchant_code": merchant_code, "voucher_part_fen": 30000,
            "paid_by_person_fen": 0, "total_fen": 30000,
            "redeemed_at": at(20).isoformat(), "till_transaction_id": "till-1"})
