"""A running roster service behind the gateway, with a stand-in event consumer."""

import re
import socket
from pathlib import Path

import eventlet
import pytest
import requests
from cryptography.fernet import Fernet
from sqlalchemy import select

from aixin.clock import clock_from_spec
from aixin.db import Database
from aixin.nameko_kit import CampaignClock, Storage, consume
from aixin.outbox import BrokerPublisher, build_event
from aixin.plumbing import create_plumbing_tables, outbox
from gateway.service import GatewayService
from services.roster.domain.idnumber import check_character
from services.roster.service import RosterService

REPO = Path(__file__).resolve().parents[3]
TEST_FILES = [REPO / "tests/data/yancheng-dibao-2022-12.csv",
              REPO / "tests/data/yancheng-tekun-2022-12.xlsx"]
SAMPLE_FILES = [REPO / "deploy/sample/yancheng-dibao-sample.csv",
                REPO / "deploy/sample/yancheng-tekun-sample.xlsx"]
ADMIN_TOKEN = "axn_" + "r" * 40
CAMPAIGN_ID = "411103-2022-12"
CAMPAIGN = {
    "campaign_id": CAMPAIGN_ID, "campaign_no": 1, "name": "郾城区爱心消费券",
    "district_code": "411103", "district_name": "郾城区", "face_value_fen": 30000,
    "snapshot_month": "2022-12", "funds_due": "2023-01-13",
    "spring_festival": "2023-01-22", "redemption_deadline": "2023-02-28",
    "joint_audit_date": "2023-03-06", "clearing_deadline": "2023-03-31",
    "spare_share_percent": 0, "cash_equivalent_categories": ["cash"],
}
ROSTER = f"/v1/campaigns/{CAMPAIGN_ID}/roster"
ID_CANDIDATE = re.compile(r"(?<![0-9])\d{17}[0-9X](?![0-9X])")
RECEIVED: dict[str, list] = {}


class Listener:
    """Stands in for the issuance service, a consumer of every roster event."""

    name = "issuance"
    db = Storage("issuance", create_schema=create_plumbing_tables)
    clock = CampaignClock()

    @consume("roster_published")
    def on_roster_published(self, session, event):
        RECEIVED.setdefault(event.type, []).append(event.data)

    @consume("roster_publication_completed")
    def on_roster_publication_completed(self, session, event):
        RECEIVED.setdefault(event.type, []).append(event.data)

    @consume("roster_amended")
    def on_roster_amended(self, session, event):
        RECEIVED.setdefault(event.type, []).append(event.data)


def wait_for(predicate, timeout: float = 20.0):
    with eventlet.Timeout(timeout):
        while True:
            value = predicate()
            if value:
                return value
            eventlet.sleep(0.1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def valid_ids_in(text: str) -> list[str]:
    """Return the 18-character ID numbers in ``text`` whose check character is right."""
    return [match for match in ID_CANDIDATE.findall(text)
            if check_character(match[:17]) == match[17]]


def new_id_number(area: str = "411103", birth: str = "19500101",
                  sequence: str = "987") -> str:
    first17 = area + birth + sequence
    return first17 + check_character(first17)


class RosterSystem:
    def __init__(self, base: str, config: dict):
        self.base = base
        self.config = config
        self.headers = {}

    def token(self, role: str, scope: str | None = None) -> dict:
        response = requests.post(f"{self.base}/v1/tokens", json={
            "role": role, "scope": scope, "name": f"test {role}"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)
        assert response.status_code == 201, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def upload(self, path: str, files, headers, **params) -> requests.Response:
        handles = [open(file, "rb") for file in files]
        try:
            return requests.post(
                f"{self.base}{ROSTER}/{path}", headers=headers, params=params,
                files=[("files", (Path(file).name, handle))
                       for file, handle in zip(files, handles)], timeout=120)
        finally:
            for handle in handles:
                handle.close()

    def get(self, path: str, headers, **params) -> requests.Response:
        return requests.get(f"{self.base}{ROSTER}/{path}", headers=headers,
                            params=params, timeout=60)

    def post(self, path: str, headers, body=None) -> requests.Response:
        return requests.post(f"{self.base}{ROSTER}/{path}", headers=headers,
                             json=body or {}, timeout=60)

    def roster_rows(self, table):
        database = Database(self.config["ROSTER_DATABASE_URL"])
        try:
            with database.reading() as session:
                return session.execute(select(table)).all()
        finally:
            database.dispose()

    def outbox_bodies(self) -> list[str]:
        return [row.body for row in self.roster_rows(outbox)]


@pytest.fixture
def roster_system(runner_factory, amqp_uri, database_url_for, monkeypatch, tmp_path):
    """Start the gateway, the roster service and the listener; announce a campaign."""
    RECEIVED.clear()
    monkeypatch.setenv("ROSTER_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("ROSTER_HASH_KEY", "k" * 40)
    monkeypatch.setenv("AIXIN_UPLOAD_DIR", str(tmp_path / "uploads"))
    port = free_port()
    config = {"AMQP_URI": amqp_uri, "AIXIN_CLOCK": "system",
              "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
              "AIXIN_ADMIN_TOKEN": ADMIN_TOKEN, "ROSTER_BATCH_SIZE": 100,
              "GATEWAY_DATABASE_URL": database_url_for("gateway"),
              "ROSTER_DATABASE_URL": database_url_for("roster"),
              "ISSUANCE_DATABASE_URL": database_url_for("issuance")}
    runner_factory(config, GatewayService, RosterService, Listener).start()
    system = RosterSystem(f"http://127.0.0.1:{port}", config)
    publisher = BrokerPublisher(amqp_uri, "redemption")
    publisher.publish(build_event("campaign_created", CAMPAIGN,
                                  clock_from_spec("system").now()))
    publisher.close()
    civil_affairs = system.token("civil_affairs")
    wait_for(lambda: system.get("snapshots", civil_affairs).status_code == 200)
    return system
