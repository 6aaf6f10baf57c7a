"""Every service and the gateway in this process, with a small campaign under way.

The campaign is set up through the gateway by the simulator's own set-up steps, so
every kind of object a route can name exists: a campaign with merchants, a published
roster, funded townships, print batches, handed-out vouchers, a redemption and an
uploaded till export. Two townships (A and B) and their merchants own objects, so
tests can ask for A's objects with B's token.
"""

import csv
import logging
import os
import random
import secrets
import socket
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from nameko.runners import ServiceRunner

from aixin.clock import FileClock
from deploy.sample.generate_roster import generate
from gateway.service import GatewayService
from services.issuance.service import IssuanceService
from services.notify.service import NotifyService
from services.redemption.service import RedemptionService
from services.reporting.service import ReportingService
from services.roster.service import RosterService
from services.settlement.service import SettlementService
from simulator import setup_phase
from simulator.client import Actor
from simulator.dates import at, campaign_dates
from simulator.world import World

SERVICES = (GatewayService, RosterService, IssuanceService, RedemptionService,
            SettlementService, ReportingService, NotifyService)
DISTRICT = "411103"
PERSONS = 100
SECRET_NAMES = ("VOUCHER_MAC_KEY", "ROSTER_ENCRYPTION_KEY", "ROSTER_HASH_KEY")
TILL_COLUMNS = ("serial", "till_transaction_id", "time", "total_fen", "items")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Party:
    """One township or merchant with its token and the objects it owns."""

    code: str
    token: str
    objects: dict = field(default_factory=dict)


@dataclass
class Campaign:
    base_url: str
    admin_token: str
    world: World
    campaign_id: str
    tokens: dict  # role -> token of an unscoped role
    townships: dict  # "A", "B" -> Party
    merchants: dict  # "A", "B" -> Party
    snapshot_id: str
    beneficiary_id: str  # a person of township A
    upload_dir: Path
    data_dir: Path

    def headers(self, token: str | None) -> dict:
        return {"Authorization": f"Bearer {token}"} if token else {}


@pytest.fixture(scope="module")
def campaign(amqp_uri, tmp_path_factory):
    """Start every service in this process and set up a small campaign through them."""
    folder = tmp_path_factory.mktemp("security")
    clock_path = folder / "clock.json"
    dates = campaign_dates("2022-12")
    FileClock(clock_path).set(at(dates.funds_due.replace(day=1), 9))
    port = free_port()
    admin_token = "axn_" + secrets.token_urlsafe(32)
    config = {"AMQP_URI": amqp_uri, "AIXIN_CLOCK": f"file:{clock_path}",
              "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
              "AIXIN_ADMIN_TOKEN": admin_token}
    # tests/conftest.py puts the test secrets in the environment; a runner's config
    # does not read the environment itself.
    config.update({name: os.environ[name] for name in SECRET_NAMES})
    for service in ("gateway", "roster", "issuance", "redemption", "settlement",
                    "reporting", "notify"):
        config[f"{service.upper()}_DATABASE_URL"] = f"sqlite:///{folder / service}.db"
    upload_dir = folder / "uploads"
    with pytest.MonkeyPatch.context() as patch:
        # Uploads and documents go to this test's folder, not the repository's data/.
        patch.setenv("AIXIN_UPLOAD_DIR", str(upload_dir))
        patch.setenv("AIXIN_DATA_DIR", str(folder / "data"))
        runner = ServiceRunner(config)
        for service_class in SERVICES:
            runner.add_service(service_class)
        runner.start()
        try:
            yield _set_up(f"http://127.0.0.1:{port}", admin_token, amqp_uri, folder,
                          dates, upload_dir)
        finally:
            runner.kill()


def _set_up(base_url, admin_token, amqp_uri, folder, dates, upload_dir) -> Campaign:
    roster = generate(folder / "roster", DISTRICT, PERSONS, 11, date(2022, 12, 1),
                      prefix="security")
    world = World(base_url, admin_token, amqp_uri, random.Random(11), folder / "out")
    setup_phase.create_campaign(world, DISTRICT, dates)
    setup_phase.designate_merchants(world, dates)
    setup_phase.import_and_publish_roster(world, [roster.dibao_csv, roster.tekun_xlsx])
    setup_phase.fund_the_townships(world, dates)
    setup_phase.print_vouchers(world)
    served = sorted((t for t in world.townships.values() if t.beneficiaries),
                    key=lambda township: township.code)
    assert len(served) >= 2, "the generated roster must cover two townships"
    world.set_clock(at(dates.funds_due, 15))
    townships = {label: _township_party(world, township)
                 for label, township in zip("AB", served)}
    merchants = {label: _merchant_party(world, township)
                 for label, township in zip("AB", served)}
    world.settle()
    world.set_clock(at(dates.funds_due, 16))
    _redeem_and_upload(world, served[0], merchants["A"], folder)
    world.settle()
    civil_affairs = world.bureaus["civil_affairs"]
    snapshots = civil_affairs.get(f"{world.campaign_path}/roster/snapshots")
    tokens = {role: actor.headers["Authorization"].split(" ", 1)[1]
              for role, actor in world.bureaus.items()}
    tokens["admin"] = admin_token
    return Campaign(
        base_url=base_url, admin_token=admin_token, world=world,
        campaign_id=world.campaign["campaign_id"], tokens=tokens, townships=townships,
        merchants=merchants, snapshot_id=_snapshot_id(snapshots),
        beneficiary_id=served[0].beneficiaries[0]["beneficiary_id"],
        upload_dir=upload_dir, data_dir=folder)


def _snapshot_id(snapshots) -> str:
    listing = snapshots["snapshots"] if isinstance(snapshots, dict) else snapshots
    return listing[0]["snapshot_id"]


def _token_of(actor: Actor) -> str:
    return actor.headers["Authorization"].split(" ", 1)[1]


def _township_party(world, township) -> Party:
    """Hand out the township's first voucher; record its batch and serial."""
    path = f"{world.campaign_path}/townships/{township.code}"
    batches = township.actor.get(f"{path}/print-batches")
    person = township.beneficiaries[0]
    serial, check_code = township.stock.pop(0)
    township.actor.post(f"{path}/handouts", json={
        "serial": serial, "beneficiary_id": person["beneficiary_id"],
        "recipient_kind": "self", "operator": "村委会经办人"})
    return Party(township.code, _token_of(township.actor), {
        "batch_id": batches[0]["batch_id"], "serial": serial,
        "check_code": check_code, "beneficiary_id": person["beneficiary_id"]})


def _merchant_party(world, township) -> Party:
    merchant = township.merchants[0]
    return Party(merchant.code, _token_of(merchant.actor), {})


def _redeem_and_upload(world, township, merchant: Party, folder: Path) -> None:
    """Merchant A redeems township A's voucher and uploads its till export."""
    actor = next(m.actor for m in world.merchants.values() if m.code == merchant.code)
    serial, check_code = _handed_out(world, township)
    till_id = f"T{uuid.uuid4().hex[:12]}"
    lines = [{"item": "大米", "category": "grain", "quantity": 1,
              "unit_price_fen": 5000, "amount_fen": 5000}]
    redemption = actor.post(f"{world.campaign_path}/redemptions", json={
        "serial": serial, "check_code": check_code, "till_transaction_id": till_id,
        "lines": lines, "total_fen": 5000}, idempotency_key=uuid.uuid4().hex)
    merchant.objects["redemption_id"] = redemption["redemption_id"]
    merchant.objects["serial"] = serial
    export = folder / f"till-{merchant.code}.csv"
    with export.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=TILL_COLUMNS)
        writer.writeheader()
        writer.writerow({"serial": serial, "till_transaction_id": till_id,
                         "time": world.now.isoformat(), "total_fen": 5000, "items": 1})
    with export.open("rb") as handle:
        statement = actor.post(
            f"{world.campaign_path}/merchants/{merchant.code}/statements",
            files=[("files", (export.name, handle))],
            data={"period_from": world.now.date().isoformat(),
                  "period_to": world.now.date().isoformat()})
    merchant.objects["statement_id"] = statement["statement_id"]


def _handed_out(world, township) -> tuple[str, str]:
    """Hand out a second voucher of the township and return its serial and code."""
    path = f"{world.campaign_path}/townships/{township.code}"
    person = township.beneficiaries[1]
    serial, check_code = township.stock.pop(0)
    township.actor.post(f"{path}/handouts", json={
        "serial": serial, "beneficiary_id": person["beneficiary_id"],
        "recipient_kind": "self", "operator": "村委会经办人"})
    return serial, check_code


@pytest.fixture
def gateway_log(caplog):
    """Capture the gateway's log records at WARNING and above."""
    caplog.set_level(logging.WARNING, logger="gateway")
    return caplog
