"""Spending the vouchers at the designated supermarkets until the deadline.

Most vouchers are spent, some never are. Baskets come from a small shelf of everyday
goods, so some purchases stay below the face value (the rest returns to the province)
and some go above it (the person pays the difference). Each Monday the weekly report
is fetched, and the merchants try redemptions that must be rejected.
"""

import logging
import uuid
from collections import defaultdict
from datetime import timedelta

from simulator import cashout_cases
from simulator.dates import at, days_between

log = logging.getLogger(__name__)

SPEND_SHARE = 0.9
SHELF = [  # item, category, unit price in fen
    ("大米 10kg", "grain", 6500), ("面粉 5kg", "grain", 3200),
    ("食用油 5L", "grain_oil", 7990), ("猪肉 1kg", "meat", 2800),
    ("鸡蛋 30枚", "eggs", 2450), ("牛奶 1箱", "dairy", 5600),
    ("挂面 1kg", "grain", 890), ("食盐 400g", "condiment", 300),
    ("酱油 1.8L", "condiment", 1590), ("洗衣粉 2kg", "daily", 2290),
    ("毛巾", "daily", 1200), ("保暖内衣", "clothing", 8900),
]


def basket(rng) -> tuple[list[dict], int]:
    lines = []
    for item, category, unit_price in rng.sample(SHELF, rng.randint(1, 5)):
        quantity = rng.randint(1, 3)
        lines.append({"item": item, "category": category, "quantity": quantity,
                      "unit_price_fen": unit_price, "amount_fen": quantity * unit_price})
    return lines, sum(line["amount_fen"] for line in lines)


def redeem(world, merchant, serial, check_code, lines, total_fen, key=None, **fields):
    """Redeem at a till; ``fields`` adds optional ones such as ``till_session``."""
    till_transaction_id = f"T{uuid.uuid4().hex[:12]}"
    result = merchant.actor.post(f"{world.campaign_path}/redemptions", json={
        "serial": serial, "check_code": check_code,
        "till_transaction_id": till_transaction_id, "lines": lines,
        "total_fen": total_fen, **fields}, idempotency_key=key or uuid.uuid4().hex)
    world.till_records[merchant.code].append({
        "serial": serial, "till_transaction_id": till_transaction_id,
        "time": world.now.isoformat(), "total_fen": total_fen, "items": len(lines)})
    return result


def spend_vouchers(world, dates) -> None:
    plans = defaultdict(list)
    first_day = dates.funds_due + timedelta(days=2)
    days = list(days_between(first_day, dates.redemption_deadline))
    for township in world.townships.values():
        for beneficiary_id, (serial, check_code) in sorted(township.issued.items()):
            if serial in world.planted_serials:
                continue  # spent by a planted cash-out case (simulator.cashout_cases)
            if world.rng.random() < SPEND_SHARE:
                issued_on = township.issued_on[beneficiary_id]
                day = world.rng.choice([day for day in days if day > issued_on])
                plans[day].append((township, serial, check_code))
    world.redeemed = []
    world.till_records = defaultdict(list)
    for day in days:
        if day.weekday() == 0:
            world.set_clock(at(day, 9))
            world.send_due_reminders()
            fetch_weekly_report(world, day)
        if not plans.get(day):
            cashout_cases.plant_on(world, day)  # the day's planted cases, if any
            continue
        world.set_clock(at(day, 10))
        world.settle()
        for township, serial, check_code in plans[day]:
            merchant = world.rng.choice(township.merchants)
            lines, total = basket(world.rng)
            result = redeem(world, merchant, serial, check_code, lines, total)
            world.redeemed.append((township, merchant, serial, check_code, result))
        world.send_due_reminders()
        log.info("redemption %s: %d vouchers", day, len(plans[day]))
        cashout_cases.plant_on(world, day)  # after the ordinary ones, from 13:00
    world.settle()


def fetch_weekly_report(world, monday) -> None:
    commerce = world.bureaus["commerce"]
    world.save(f"reports/weekly-{monday.isoformat()}.xlsx", commerce.get(
        f"{world.campaign_path}/reports/weekly.xlsx",
        params={"monday": monday.isoformat()}, raw=True))


def try_invalid_redemptions(world, dates) -> None:
    """Redemptions a till must be refused, each for its own reason."""
    township, merchant, serial, check_code, _ = world.redeemed[0]
    lines, total = basket(world.rng)
    expect = world.rejections.expect
    expect("voucher_already_redeemed", redeem, world, merchant, serial, check_code,
           lines, total)
    unspent = _unspent_voucher(world)
    other = next(m for m in world.merchants.values()
                 if unspent[0].code not in m.township_codes)
    expect("merchant_not_designated", redeem, world, other, unspent[1], unspent[2],
           lines, total)
    own = unspent[0].merchants[0]
    wrong_total = total + 100
    expect("statement_total_mismatch", redeem, world, own, unspent[1], unspent[2],
           lines, wrong_total)
    forged = "A" * len(unspent[2])
    expect("invalid_check_code", redeem, world, own, unspent[1], forged, lines, total)
    world.set_clock(at(dates.redemption_deadline + timedelta(days=1), 10))
    expect("redemption_deadline_passed", redeem, world, own, unspent[1], unspent[2],
           lines, total)


def _unspent_voucher(world):
    spent = {serial for _, _, serial, _, _ in world.redeemed}
    for township in world.townships.values():
        for serial, check_code in township.issued.values():
            if serial not in spent and serial not in world.planted_serials:
                return township, serial, check_code
    raise RuntimeError("every voucher was spent: no unspent voucher to test with")
