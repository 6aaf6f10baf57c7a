"""Hand-out from the arrival of funds to after Spring Festival, with its mishaps.

Each township hands its vouchers out on random days before Spring Festival: most
persons collect their own, some through a family member, a few are unreachable and a
few come late, after the festival. Each care institution's manager collects all its
residents' vouchers at once. One voucher is lost and reissued, and the townships try
operations that must be rejected.
"""

import logging
from collections import defaultdict
from datetime import timedelta

from simulator.dates import at, days_between

log = logging.getLogger(__name__)

UNREACHABLE_SHARE = 0.03
FAMILY_SHARE = 0.15
LATE_SHARE = 0.02
OPERATOR = "村委会经办人"


def hand_out_vouchers(world, dates) -> None:
    first_day = dates.funds_due + timedelta(days=1)
    plans = defaultdict(list)  # day -> [(township, action, person or institution)]
    for township in world.townships.values():
        _plan_township(world, township, first_day, dates, plans)
    late_day = dates.spring_festival + timedelta(days=5)
    for day in days_between(first_day, late_day):
        if not plans.get(day):
            continue
        world.set_clock(at(day, 10))
        for township, action, subject in plans[day]:
            action(world, township, subject)
        log.info("hand-out %s: %d operations", day, len(plans[day]))
    world.settle()


def _plan_township(world, township, first_day, dates, plans) -> None:
    rng = world.rng
    days = list(days_between(first_day, dates.spring_festival - timedelta(days=1)))
    institutions = defaultdict(list)
    for person in township.beneficiaries:
        if person["support_mode"] == "institutional":
            institutions[person["institution"]].append(person)
            continue
        draw = rng.random()
        if draw < UNREACHABLE_SHARE:
            plans[rng.choice(days)].append((township, _void_unreachable, person))
        elif draw < UNREACHABLE_SHARE + LATE_SHARE:
            late = dates.spring_festival + timedelta(days=rng.randint(1, 5))
            plans[late].append((township, _hand_out, person))
        else:
            plans[rng.choice(days)].append((township, _hand_out, person))
    for institution, residents in sorted(institutions.items()):
        plans[rng.choice(days)].append((township, _collect, (institution, residents)))


def _take_stock(township):
    return township.stock.pop(0)


def _hand_out(world, township, person) -> None:
    serial, check_code = _take_stock(township)
    kind = "family" if world.rng.random() < FAMILY_SHARE else "self"
    township.actor.post(f"{world.campaign_path}/townships/{township.code}/handouts", json={
        "serial": serial, "beneficiary_id": person["beneficiary_id"],
        "recipient_kind": kind, "operator": OPERATOR})
    township.issued[person["beneficiary_id"]] = (serial, check_code)
    township.issued_on[person["beneficiary_id"]] = world.now.date()


def _void_unreachable(world, township, person) -> None:
    serial, _ = _take_stock(township)
    township.actor.post(f"{world.campaign_path}/townships/{township.code}/voids", json={
        "serial": serial, "reason": "unreachable", "operator": OPERATOR,
        "beneficiary_id": person["beneficiary_id"], "note": "多次联系未果"})
    township.unreachable.append(person["beneficiary_id"])


def _collect(world, township, subject) -> None:
    institution, residents = subject
    taken = [_take_stock(township) for _ in residents]
    result = township.actor.post(
        f"{world.campaign_path}/townships/{township.code}/institution-collections",
        json={"institution": institution, "manager_name": "王*华",
              "manager_masked_id": "411103********0021",
              "manager_phone": "13800000000", "operator": OPERATOR,
              "serials": [serial for serial, _ in taken]})
    codes = dict(taken)
    for voucher in result["issued"]:
        township.issued[voucher["beneficiary_id"]] = (voucher["serial"],
                                                      codes[voucher["serial"]])
        township.issued_on[voucher["beneficiary_id"]] = world.now.date()


def lose_and_reissue_one(world) -> None:
    """A person loses an unspent voucher; the township voids it and reissues."""
    township = next(t for t in world.townships.values() if t.issued and t.stock)
    beneficiary_id, (serial, _) = sorted(township.issued.items())[0]
    new_serial, new_code = _take_stock(township)
    township.actor.post(f"{world.campaign_path}/townships/{township.code}/reissues", json={
        "serial": serial, "reason": "lost", "new_serial": new_serial,
        "operator": OPERATOR, "note": "本人报失"})
    township.issued[beneficiary_id] = (new_serial, new_code)
    township.issued_on[beneficiary_id] = world.now.date()


def try_invalid_handouts(world) -> None:
    """Operations a township must not be able to do, each rejected for its reason."""
    townships = [t for t in world.townships.values() if t.issued and t.stock]
    first = next(t for t in townships if t.unreachable)
    second = next(t for t in townships if t is not first)
    beneficiary_id = next(iter(first.issued))
    serial, _ = first.stock[0]
    world.rejections.expect(
        "beneficiary_already_has_voucher", first.actor.post,
        f"{world.campaign_path}/townships/{first.code}/handouts", json={
            "serial": serial, "beneficiary_id": beneficiary_id,
            "recipient_kind": "self", "operator": OPERATOR})
    other_serial, _ = second.stock[0]
    person = first.unreachable[0]
    world.rejections.expect(
        "serial_of_other_township", first.actor.post,
        f"{world.campaign_path}/townships/{first.code}/handouts", json={
            "serial": other_serial, "beneficiary_id": person,
            "recipient_kind": "self", "operator": OPERATOR})


def end_handout(world, dates) -> None:
    world.set_clock(at(dates.spring_festival + timedelta(days=7), 17))
    for township in world.townships.values():
        if township.beneficiaries:
            township.actor.post(
                f"{world.campaign_path}/townships/{township.code}/end-handout",
                json={"operator": "乡镇发放负责人", "note": "发放结束，剩余库存作废"})
        township.stock = []
    world.settle()
