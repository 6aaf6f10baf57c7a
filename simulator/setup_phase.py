"""Before hand-out: campaign, merchants, roster, funds and printing."""

import logging
from pathlib import Path

from services.redemption.domain.uscc import make_uscc
from services.roster.domain.divisions import DivisionIndex
from simulator.cashout_cases import THRESHOLDS, ordinary_stores
from simulator.dates import at
from simulator.world import Merchant, Township

log = logging.getLogger(__name__)

FACE_VALUE_FEN = 30000
SPARE_SHARE_PERCENT = 2


def create_campaign(world, district_code: str, dates) -> None:
    district = DivisionIndex.load().district(district_code)
    world.set_clock(at(dates.funds_due.replace(day=1), 9))
    world.campaign = world.bureaus["commerce"].post("/v1/campaigns", json={
        "name": f"{district.name}爱心消费券", "district_code": district.code,
        "district_name": district.name, "face_value_fen": FACE_VALUE_FEN,
        "spare_share_percent": SPARE_SHARE_PERCENT, "cashout_thresholds": THRESHOLDS,
        **dates.as_payload()})
    log.info("campaign %s created", world.campaign["campaign_id"])
    for township in district.townships:
        world.townships[township.code] = Township(
            township.code, township.name,
            world.township_actor(township.code, f"{township.name}经办人"))


def designate_merchants(world, dates) -> None:
    """One supermarket per township; the first township gets a second one.

    Once the roster is published, each has one store per
    ``merchant_volume_max_per_store`` persons of its township, so its voucher volume
    fits its size; before, one store.
    """
    commerce = world.bureaus["commerce"]
    district_code = world.campaign["district_code"]
    townships = sorted(world.townships.values(), key=lambda township: township.code)
    plan = [(township, f"{township.name}爱心超市") for township in townships]
    plan.append((townships[0], f"{townships[0].name}第二爱心超市"))
    for sequence, (township, name) in enumerate(plan, start=1):
        code = make_uscc(district_code, sequence)
        commerce.post(f"{world.campaign_path}/merchants", json={
            "merchant_code": code, "name": name, "above_size": True,
            "stores": ordinary_stores(len(township.beneficiaries)),
            "township_codes": [township.code], "valid_from":
            dates.funds_due.replace(day=1).isoformat(),
            "valid_to": dates.clearing_deadline.isoformat()})
        merchant = Merchant(code, name, [township.code],
                            world.merchant_actor(code, name))
        world.merchants[code] = merchant
        township.merchants.append(merchant)
    log.info("%d merchants designated", len(world.merchants))


def import_and_publish_roster(world, roster_files: list[Path]) -> None:
    civil_affairs = world.bureaus["civil_affairs"]
    handles = [path.open("rb") for path in roster_files]
    try:
        files = [("files", (path.name, handle)) for path, handle in
                 zip(roster_files, handles)]
        snapshot = civil_affairs.post(f"{world.campaign_path}/roster/imports",
                                      files=files)
    finally:
        for handle in handles:
            handle.close()
    snapshot_id = snapshot["snapshot_id"]
    world.roster_report = civil_affairs.get(
        f"{world.campaign_path}/roster/snapshots/{snapshot_id}/report")
    world.save("reports/roster-import-report.xlsx", civil_affairs.get(
        f"{world.campaign_path}/roster/snapshots/{snapshot_id}/report.xlsx", raw=True))
    civil_affairs.post(f"{world.campaign_path}/roster/snapshots/{snapshot_id}/publish")
    world.settle()
    for township in world.townships.values():
        listing = civil_affairs.get(
            f"{world.campaign_path}/roster/townships/{township.code}/beneficiaries")
        township.beneficiaries = listing["beneficiaries"]
    log.info("roster published: %d beneficiaries",
             sum(len(t.beneficiaries) for t in world.townships.values()))


def fund_the_townships(world, dates) -> None:
    finance = world.bureaus["finance"]
    settlement = f"{world.campaign_path}/settlement"
    expected = finance.get(f"{settlement}/pre-allocations")["expected_fen"]
    world.set_clock(at(dates.funds_due, 10))
    finance.post(f"{settlement}/pre-allocations", json={
        "amount_fen": expected, "received_at": at(dates.funds_due, 10).isoformat(),
        "memo": "省级预拨资金到位"})
    finance.post(f"{settlement}/allocation/approval", json={"reason": "按花名册人数拨付"})
    world.settle()


def print_vouchers(world) -> None:
    for township in world.townships.values():
        if not township.beneficiaries:
            continue
        batch = township.actor.post(
            f"{world.campaign_path}/townships/{township.code}/print-batches",
            json={"merchant_code": township.merchants[0].code, "operator": "印制专员"})
        township.stock = [(voucher["serial"], voucher["check_code"])
                          for voucher in batch["vouchers"]]
    first = next(t for t in world.townships.values() if t.beneficiaries)
    batches = first.actor.get(
        f"{world.campaign_path}/townships/{first.code}/print-batches")
    batch_id = batches[0]["batch_id"]
    world.save(f"print/{first.code}-print-file.pdf", first.actor.get(
        f"{world.campaign_path}/townships/{first.code}/print-batches/{batch_id}"
        "/print-file", raw=True))
    world.settle()
