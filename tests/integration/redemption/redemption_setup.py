"""The redemption tests' campaign: constants, the Campaign handle and helpers.

Test modules import these by package path; conftest.py contains only the fixture."""


import socket
from datetime import datetime

import eventlet
import requests
from sqlalchemy import select

from aixin.clock import CAMPAIGN_TZ
from aixin.db import Database
from aixin.outbox import BrokerPublisher, build_event
from aixin.vouchers import check_code, make_serial
from services.redemption.domain.uscc import make_uscc
from services.redemption.models import vouchers

ADMIN_TOKEN = "axn_" + "b" * 40
MAC_KEY = "test-check-code-key-0123456789"
CAMPAIGN_ID = "411103-2022-12"
TOWNSHIP = "411103100000"
OTHER_TOWNSHIP = "411103101000"
MERCHANT = make_uscc("411103", 1)
OTHER_MERCHANT = make_uscc("411103", 2)
CAMPAIGN = {
    "name": "郾城区爱心消费券", "district_code": "411103", "district_name": "郾城区",
    "face_value_fen": 30000, "snapshot_month": "2022-12", "funds_due": "2023-01-13",
    "redemption_deadline": "2023-02-28", "joint_audit_date": "2023-03-06",
    "clearing_deadline": "2023-03-31",
}
ISSUED_AT = datetime(2023, 1, 15, 10, 0, tzinfo=CAMPAIGN_TZ)
SHOPPING_AT = datetime(2023, 1, 20, 10, 0, tzinfo=CAMPAIGN_TZ)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate, timeout=15.0, interval=0.05):
    with eventlet.Timeout(timeout):
        while not predicate():
            eventlet.sleep(interval)


class Campaign:
    """A running campaign: its gateway URL, tokens, clock and redemption database."""

    def __init__(self, base, amqp_uri, database_url, clock):
        self.base = base
        self.amqp_uri = amqp_uri
        self.database = Database(database_url)
        self.clock = clock
        self.headers = {}

    def token(self, role, scope=None) -> dict:
        response = requests.post(f"{self.base}/v1/tokens", json={
            "role": role, "scope": scope, "name": f"test {role} {scope or ''}".strip()},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)
        assert response.status_code == 201, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def publish(self, event_type, data, occurred_at=ISSUED_AT, producer="issuance"):
        publisher = BrokerPublisher(self.amqp_uri, producer)
        try:
            publisher.publish(build_event(event_type, data, occurred_at))
        finally:
            publisher.close()

    def print_and_issue(self, township, sequences, merchant=MERCHANT, issue=True,
                        village="红旗村", institution=None):
        """Print vouchers for ``township`` and hand them out; return their serials."""
        serials = [make_serial(1, township, sequence) for sequence in sequences]
        self.publish("vouchers_printed", {
            "campaign_id": CAMPAIGN_ID, "batch_id": f"batch-{township}-{sequences[0]}",
            "township_code": township, "merchant_code": merchant, "serials": serials,
            "printed_at": ISSUED_AT})
        for number, serial in enumerate(serials if issue else []):
            self.publish("voucher_issued", {
                "campaign_id": CAMPAIGN_ID, "serial": serial,
                "beneficiary_id": f"b-{serial[-7:]}", "beneficiary_name": "张三",
                "masked_id": "411103********1234", "township_code": township,
                "village": village, "institution": institution,
                "recipient_kind": "self", "issued_at": ISSUED_AT, "late": False})
        state = "issued" if issue else "printed"
        wait_for(lambda: self.states(serials) == {state})
        return serials

    def states(self, serials) -> set:
        with self.database.reading() as session:
            rows = session.execute(select(vouchers.c.state)
                                   .where(vouchers.c.serial.in_(serials))).all()
        return {row.state for row in rows} if len(rows) == len(serials) else set()

    def redeem(self, headers, serial, total_fen=8000, key=None, lines=None,
               code=None, transaction=None):
        lines = lines if lines is not None else basket(total_fen)
        body = {"serial": serial,
                "check_code": code or check_code(MAC_KEY.encode(), serial),
                "till_transaction_id": transaction or f"T{serial[-6:]}",
                "lines": lines, "total_fen": total_fen}
        return requests.post(
            f"{self.base}/v1/campaigns/{CAMPAIGN_ID}/redemptions", json=body,
            headers={**headers, "Idempotency-Key": key or f"k-{serial}-{total_fen}"},
            timeout=30)


def basket(total_fen: int) -> list[dict]:
    """Two lines adding up to ``total_fen``: rice by the bag and oil by the bottle."""
    oil = total_fen // 2
    return [{"item": "大米 5kg", "category": "grain", "quantity": 1,
             "unit_price_fen": total_fen - oil, "amount_fen": total_fen - oil},
            {"item": "食用油 1L", "category": "oil", "quantity": 1,
             "unit_price_fen": oil, "amount_fen": oil}]
