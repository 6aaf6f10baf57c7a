"""Planted cash-out cases: redemptions that each cash-out flag rule must catch.

Before anyone spends a voucher, ``choose_cases`` takes the vouchers of every case out
of the handed-out ones (``world.planted_serials``, which ordinary shoppers never
spend), designates the supermarkets the cases need and gives each case a day near the
end of the redemption period. ``spend_vouchers`` calls ``plant_on`` after each day's
ordinary redemptions (all at 10:00), and the day's case is played from 13:00 on.

The campaign's thresholds are ``THRESHOLDS`` and every case sits exactly on them:

- village_burst: ``village_burst_min_count`` vouchers of one village, three minutes
  apart, at one supermarket;
- consecutive_serials: ``consecutive_serials_min_run`` consecutive serials of one
  township, four minutes apart, at one supermarket;
- identical_baskets: the same three-line basket ``identical_baskets_min_repeats``
  times, forty minutes apart;
- single_line_face_value: one line worth exactly the face value;
- institution_basket: ``institution_basket_min_count`` vouchers of one care home rung
  up in one till session;
- outside_opening_hours: a redemption at 22:40, when the store closed at 22:00;
- removed_from_roster: a voucher redeemed after civil affairs removed its holder;
- merchant_volume: a one-store shop redeeming ``merchant_volume_max_per_store`` plus
  one vouchers.

Every grouping rule groups by merchant, so each grouping case (village, serials,
baskets, care home, volume) happens at a supermarket of its own, designated for the
township(s) of its vouchers and never chosen by ordinary shoppers: no ordinary
redemption can join a planted group or the other way round. The three single
redemptions happen at the township's regular supermarket, three hours or more after
its ordinary redemptions of the day. Each case keeps clear of the other rules: its
serials are not consecutive unless that is the case, at most
``village_burst_min_count - 1`` of its vouchers share a village within half an hour,
and so on. Regular supermarkets get one store per ``merchant_volume_max_per_store``
persons of their township (``ordinary_stores``), so their volume always fits their
size.

Removed persons. When civil affairs removes a person, issuance voids the person's live
voucher (void reason ``roster_amendment``) and the redemption service marks it voided,
so once the amendment has gone round the till refuses the voucher with
``voucher_voided``: the simulator plants that attempt as an expected rejection. The
flag is the second line of defence, for a redemption that reaches the till while the
void is still on its way. The simulator plants that one by pausing the issuance
process (a lagging service) from before the amendment until after the redemption.
Issuance then voids the already redeemed voucher and parks the ``voucher_redeemed``
event for an operator, and the redemption service logs "voucher voided after its
redemption"; the flag brings the redemption to the audit.

Audit. Commerce reads each supermarket's flags before auditing it and rejects every
flagged redemption, giving the rule and the flag's explanation as the reason
(``audit_rejections``). Only approved voucher parts are reimbursed, so the province
pays exactly the approved ones; flagged redemptions are never paid.
"""

import logging
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from aixin.vouchers import parse_serial
from services.redemption.domain.uscc import make_uscc
from simulator import redemption_phase
from simulator.client import GatewayError
from simulator.dates import at
from simulator.world import Merchant

log = logging.getLogger(__name__)

THRESHOLDS = {
    "village_burst_min_count": 5,
    "village_burst_window_minutes": 30,
    "consecutive_serials_min_run": 5,
    "consecutive_serials_window_minutes": 30,
    "identical_baskets_min_repeats": 5,
    "identical_baskets_min_lines": 3,
    "institution_basket_min_count": 5,
    "institution_basket_window_minutes": 30,
    "merchant_volume_max_per_store": 25,
}
RULES = ("village_burst", "consecutive_serials", "identical_baskets",
         "single_line_face_value", "institution_basket", "outside_opening_hours",
         "removed_from_roster", "merchant_volume")
# Planted supermarkets take USCC sequences from here on; regular ones start at 1.
FIRST_PLANTED_SEQUENCE = 901
# The same basket, bought over and over for cash: 27,380 fen, below the face value.
REPEATED_BASKET = [
    {"item": "食用油 5L", "category": "grain_oil", "quantity": 2,
     "unit_price_fen": 7990, "amount_fen": 15980},
    {"item": "大米 10kg", "category": "grain", "quantity": 1,
     "unit_price_fen": 6500, "amount_fen": 6500},
    {"item": "鸡蛋 30枚", "category": "eggs", "quantity": 2,
     "unit_price_fen": 2450, "amount_fen": 4900},
]
FACE_VALUE_ITEM = ("米面油礼包", "grain")


def ordinary_stores(persons: int) -> int:
    """Stores of a township's regular supermarket: enough for every person's voucher."""
    return max(1, math.ceil(persons / THRESHOLDS["merchant_volume_max_per_store"]))


@dataclass(frozen=True)
class Voucher:
    township: object  # simulator.world.Township
    beneficiary_id: str
    serial: str
    check_code: str
    village: str
    institution: str | None
    issued_on: date

    @property
    def sequence(self) -> int:
        return parse_serial(self.serial).sequence


@dataclass
class PlantedCase:
    """One planted case: what the rule must flag, and what happened when played."""

    rule: str
    description: str
    vouchers: list
    merchant: Merchant | None = None
    # A case the till must refuse, with this reason code, instead of redeeming it.
    refused_with: str | None = None
    day: date | None = None
    redemption_ids: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    played: bool = False

    def view(self) -> dict:
        return {"rule": self.rule, "description": self.description,
                "day": self.day.isoformat() if self.day else None,
                "merchant_code": self.merchant.code if self.merchant else None,
                "serials": [voucher.serial for voucher in self.vouchers],
                "redemption_ids": list(self.redemption_ids),
                "refused_with": self.refused_with, "problems": list(self.problems)}


class Skip(Exception):
    """The roster has no vouchers that fit a case. The message names what was missing."""


# -- choosing the cases ---------------------------------------------------------------

def choose_cases(world, dates) -> None:
    """Reserve the vouchers of every case, designate its supermarket, give it a day."""
    pool = _Pool(world)
    choosers = [  # the scarcest material first
        ("institution_basket", _institution_case),
        ("village_burst", _village_case),
        ("consecutive_serials", _serials_case),
        ("identical_baskets", _identical_case),
        ("single_line_face_value", _single_line_case),
        ("outside_opening_hours", _late_case),
        ("removed_from_roster", _removed_refused_case),
        ("removed_from_roster", _removed_in_flight_case),
        ("merchant_volume", _volume_case),
    ]
    chosen = []
    for rule, chooser in choosers:
        try:
            case = chooser(world, pool)
        except Skip as skipped:
            world.cashout_skipped.setdefault(rule, []).append(str(skipped))
            log.warning("no planted %s case: %s", rule, skipped)
            continue
        pool.take(case.vouchers)
        chosen.append(case)
    # One case a day over the last days before the deadline, in the order chosen.
    days = [dates.redemption_deadline - timedelta(days=offset)
            for offset in range(len(chosen) + 1, 1, -1)]
    sequence = FIRST_PLANTED_SEQUENCE
    for case, day in zip(chosen, days, strict=False):
        latest = max(voucher.issued_on for voucher in case.vouchers)
        if day <= latest:
            world.cashout_skipped.setdefault(case.rule, []).append(
                f"its vouchers were handed out on {latest}, too late for {day}")
            continue
        case.day = day
        if case.merchant is None:
            case.merchant = _designate(world, dates, case, sequence)
            sequence += 1
        world.planted_serials.update(voucher.serial for voucher in case.vouchers)
        if case.refused_with:
            world.cashout_refused.append(case)
        else:
            world.cashout_cases.append(case)
    planted = world.cashout_cases + world.cashout_refused
    log.info("%d cash-out cases planted for %d rules (%d to be rejected at the till), "
             "%d vouchers set aside", len(planted), len({case.rule for case in planted}),
             len(world.cashout_refused), len(world.planted_serials))


class _Pool:
    """The handed-out vouchers not yet taken by a case."""

    def __init__(self, world):
        self.vouchers = []
        for township in sorted(world.townships.values(), key=lambda t: t.code):
            persons = {person["beneficiary_id"]: person
                       for person in township.beneficiaries}
            for beneficiary_id, (serial, check_code) in township.issued.items():
                person = persons.get(beneficiary_id)
                if person is None:
                    continue
                self.vouchers.append(Voucher(
                    township, beneficiary_id, serial, check_code,
                    person.get("village") or "", person.get("institution"),
                    township.issued_on[beneficiary_id]))
        self.vouchers.sort(key=lambda voucher: voucher.serial)
        self.taken = set()

    def free(self, dispersed_only: bool = True) -> list[Voucher]:
        return [voucher for voucher in self.vouchers if voucher.serial not in self.taken
                and not (dispersed_only and voucher.institution)]

    def take(self, vouchers) -> None:
        self.taken.update(voucher.serial for voucher in vouchers)

    def by_township(self) -> dict:
        """Free dispersed vouchers per township, the township with most first, so
        that the cases spread over the district."""
        groups = defaultdict(list)
        for voucher in self.free():
            groups[voucher.township.code].append(voucher)
        return dict(sorted(groups.items(), key=lambda item: (-len(item[1]), item[0])))


def _not_adjacent(candidates: list[Voucher], count: int) -> list[Voucher]:
    """Pick up to ``count`` vouchers, no two with adjacent serials of one township."""
    picked = []
    for voucher in candidates:
        if len(picked) >= count:
            break
        if not _adjacent(voucher, picked):
            picked.append(voucher)
    return picked


def _adjacent(voucher: Voucher, picked: list[Voucher]) -> bool:
    """Tell whether ``voucher``'s serial is next to, or equal to, a picked one."""
    return any(other.township.code == voucher.township.code
               and abs(other.sequence - voucher.sequence) <= 1 for other in picked)


def _largest_share(vouchers: list[Voucher], key) -> int:
    counts = Counter(key(voucher) for voucher in vouchers if key(voucher))
    return max(counts.values(), default=0)


def _institution_case(world, pool) -> PlantedCase:
    need = THRESHOLDS["institution_basket_min_count"]
    homes = defaultdict(list)
    for voucher in pool.free(dispersed_only=False):
        if voucher.institution:
            homes[(voucher.township.code, voucher.institution)].append(voucher)
    fitting = [members for _, members in sorted(homes.items()) if len(members) >= need]
    if not fitting:
        raise Skip(f"no care home has {need} residents holding a voucher")
    residents = max(fitting, key=len)[:need]
    return PlantedCase("institution_basket",
                       f"{residents[0].institution} 的 {need} 张券在同一收银班次中核销",
                       residents)


def _village_case(world, pool) -> PlantedCase:
    need = THRESHOLDS["village_burst_min_count"]
    villages = defaultdict(list)
    for voucher in pool.free():
        if voucher.village:
            villages[(voucher.township.code, voucher.village)].append(voucher)
    largest_first = sorted(villages.items(), key=lambda item: -len(item[1]))
    for (_, village), members in largest_first:
        if len(members) < need:
            break
        # Non-consecutive serials first, so the burst is not a run of serials too.
        picked = _not_adjacent(members, need)
        if len(picked) < need:
            picked += [voucher for voucher in members if voucher not in picked]
            picked = picked[:need]
        if _longest_run(picked) < THRESHOLDS["consecutive_serials_min_run"]:
            return PlantedCase("village_burst",
                               f"{village} 的 {need} 张券在 12 分钟内于同一商超核销",
                               picked)
    raise Skip(f"no village has {need} persons holding a voucher")


def _longest_run(vouchers: list[Voucher]) -> int:
    sequences = sorted({(voucher.township.code, voucher.sequence)
                        for voucher in vouchers})
    longest = current = 0
    previous = None
    for code, sequence in sequences:
        current = current + 1 if previous == (code, sequence - 1) else 1
        longest = max(longest, current)
        previous = (code, sequence)
    return longest


def _serials_case(world, pool) -> PlantedCase:
    run = THRESHOLDS["consecutive_serials_min_run"]
    village_limit = THRESHOLDS["village_burst_min_count"] - 1
    for members in pool.by_township().values():
        for start in range(len(members) - run + 1):
            window = members[start:start + run]
            sequences = [voucher.sequence for voucher in window]
            if sequences != list(range(sequences[0], sequences[0] + run)):
                continue
            if _largest_share(window, lambda voucher: voucher.village) > village_limit:
                continue
            return PlantedCase("consecutive_serials",
                               f"连号券 {window[0].serial} 至 {window[-1].serial} "
                               "在 16 分钟内于同一商超核销", window)
    raise Skip(f"no township has {run} consecutive serials handed out")


def _identical_case(world, pool) -> PlantedCase:
    need = THRESHOLDS["identical_baskets_min_repeats"]
    for members in pool.by_township().values():
        picked = _not_adjacent(members, need)
        if len(picked) == need:
            return PlantedCase("identical_baskets",
                               f"同一三行商品清单在同一商超重复 {need} 次", picked)
    raise Skip(f"no township has {need} vouchers for repeated baskets")


def _one_voucher(pool, description: str, rule: str, **details) -> PlantedCase:
    """A case of one voucher, at the regular supermarket of its township."""
    for members in pool.by_township().values():
        for voucher in members:
            if voucher.township.merchants:
                return PlantedCase(rule, description, [voucher],
                                   merchant=voucher.township.merchants[0], **details)
    raise Skip("no voucher left")


def _single_line_case(world, pool) -> PlantedCase:
    return _one_voucher(pool, "流水清单仅一行“米面油礼包”，金额恰为面值",
                        "single_line_face_value")


def _late_case(world, pool) -> PlantedCase:
    return _one_voucher(pool, "22:40 核销，门店 22:00 关门", "outside_opening_hours")


def _removed_refused_case(world, pool) -> PlantedCase:
    return _one_voucher(pool, "持券人移出名单、券已作废后再来核销，收银台拒收",
                        "removed_from_roster", refused_with="voucher_voided")


def _removed_in_flight_case(world, pool) -> PlantedCase:
    if world.system is None:
        raise Skip("the services were not started by this simulator, so the issuance "
                   "service cannot be paused to keep the void in flight")
    return _one_voucher(pool, "持券人移出名单后、作废通知到达前核销（发放服务滞后）",
                        "removed_from_roster")


def _volume_case(world, pool) -> PlantedCase:
    need = THRESHOLDS["merchant_volume_max_per_store"] + 1
    village_limit = THRESHOLDS["village_burst_min_count"] - 1
    columns = list(pool.by_township().values())
    picked, villages = [], Counter()
    # Round-robin over the townships, no two serials adjacent, few per village.
    while len(picked) < need and any(columns):
        for members in columns:
            while members and len(picked) < need:
                voucher = members.pop(0)
                village = (voucher.township.code, voucher.village)
                if villages[village] >= village_limit:
                    continue
                if not _adjacent(voucher, picked):
                    picked.append(voucher)
                    villages[village] += 1
                    break
    if len(picked) < need:
        raise Skip(f"only {len(picked)} vouchers for a volume of {need}")
    return PlantedCase("merchant_volume",
                       f"仅 1 家门店的便利店核销 {need} 张券（每店阈值 "
                       f"{THRESHOLDS['merchant_volume_max_per_store']} 张）", picked)


MERCHANT_NAMES = {
    "village_burst": "{township}众惠超市",
    "consecutive_serials": "{township}福源超市",
    "identical_baskets": "{township}惠邻超市",
    "institution_basket": "{township}康乐超市",
    "merchant_volume": "{district}百姓便利店",
}


def _designate(world, dates, case: PlantedCase, sequence: int) -> Merchant:
    """Designate the one-store supermarket of a grouping case for its townships."""
    codes = sorted({voucher.township.code for voucher in case.vouchers})
    name = MERCHANT_NAMES[case.rule].format(
        township=case.vouchers[0].township.name,
        district=world.campaign["district_name"])
    code = make_uscc(world.campaign["district_code"], sequence)
    world.bureaus["commerce"].post(f"{world.campaign_path}/merchants", json={
        "merchant_code": code, "name": name, "above_size": True, "stores": 1,
        "township_codes": codes,
        "valid_from": dates.funds_due.replace(day=1).isoformat(),
        "valid_to": dates.clearing_deadline.isoformat()})
    merchant = Merchant(code, name, codes, world.merchant_actor(code, name))
    # Known to commerce and to the till exports, but never chosen by ordinary shoppers.
    world.merchants[code] = merchant
    return merchant


# -- playing the cases ---------------------------------------------------------------

def plant_on(world, day: date) -> None:
    """Play the cases of ``day``, after the day's ordinary redemptions."""
    for case in world.cashout_refused + world.cashout_cases:
        if case.day == day and not case.played:
            PLAYERS[case.rule](world, case)
            case.played = True
            refused = (f", rejected at the till with {case.refused_with} as expected"
                       if case.refused_with and not case.problems else "")
            log.info("planted %s at %s: %d redemptions%s%s", case.rule,
                     case.merchant.name, len(case.redemption_ids), refused,
                     f", problems {case.problems}" if case.problems else "")


def _moment(day: date, hour: int, minutes: int = 0):
    return at(day, hour) + timedelta(minutes=minutes)


def _redeem(world, case, voucher, lines, total_fen, **fields):
    try:
        result = redemption_phase.redeem(world, case.merchant, voucher.serial,
                                         voucher.check_code, lines, total_fen, **fields)
    except GatewayError as error:
        case.problems.append(f"{voucher.serial} rejected: {error}")
        return None
    case.redemption_ids.append(result["redemption_id"])
    return result


def _spaced(world, case, hour: int, step_minutes: int, basket=None, **fields) -> None:
    for number, voucher in enumerate(case.vouchers):
        world.set_clock(_moment(case.day, hour, number * step_minutes))
        lines, total = basket() if basket else redemption_phase.basket(world.rng)
        _redeem(world, case, voucher, lines, total, **fields)


def _play_village(world, case) -> None:
    _spaced(world, case, 15, 3)


def _play_serials(world, case) -> None:
    _spaced(world, case, 15, 4)


def _play_identical(world, case) -> None:
    def repeated():
        return ([dict(line) for line in REPEATED_BASKET],
                sum(line["amount_fen"] for line in REPEATED_BASKET))

    _spaced(world, case, 13, 40, basket=repeated)


def _play_institution(world, case) -> None:
    # One till session, but more than half an hour between vouchers: the session
    # makes the basket, and neither a run of serials nor a village burst appears.
    session = f"S{case.day:%Y%m%d}-{case.merchant.code[-4:]}"
    _spaced(world, case, 13, THRESHOLDS["institution_basket_window_minutes"] + 5,
            till_session=session)


def _play_single_line(world, case) -> None:
    face = world.campaign["face_value_fen"]
    item, category = FACE_VALUE_ITEM
    world.set_clock(_moment(case.day, 16, 30))
    _redeem(world, case, case.vouchers[0], [{
        "item": item, "category": category, "quantity": 1, "unit_price_fen": face,
        "amount_fen": face}], face)


def _play_late(world, case) -> None:
    world.set_clock(_moment(case.day, 22, 40))
    lines, total = redemption_phase.basket(world.rng)
    _redeem(world, case, case.vouchers[0], lines, total)


def _remove(world, voucher, note: str) -> None:
    civil_affairs = world.bureaus["civil_affairs"]
    civil_affairs.post(f"{world.campaign_path}/roster/amendments", json={
        "kind": "remove", "beneficiary_id": voucher.beneficiary_id,
        "reason": "deceased", "note": note})


def _play_removed(world, case) -> None:
    voucher = case.vouchers[0]
    lines, total = redemption_phase.basket(world.rng)
    if case.refused_with:
        world.settle()
        world.set_clock(_moment(case.day, 13))
        _remove(world, voucher, "家属报告持券人已去世")
        world.settle()  # issuance voids the voucher and the redemption service hears
        world.set_clock(_moment(case.day, 13, 30))
        error = world.rejections.expect(
            case.refused_with, redemption_phase.redeem, world, case.merchant,
            voucher.serial, voucher.check_code, lines, total)
        if error is None or error.code != case.refused_with:
            case.problems.append(f"{voucher.serial} not refused as {case.refused_with}")
        return
    world.settle()
    world.system.pause("issuance")
    try:
        world.set_clock(_moment(case.day, 17))
        _remove(world, voucher, "家属报告持券人已去世")
        world.set_clock(_moment(case.day, 17, 10))
        _redeem(world, case, voucher, lines, total)
    finally:
        world.system.resume("issuance")
    world.settle()


def _play_volume(world, case) -> None:
    signatures = set()

    def fresh_basket():
        # Random baskets, never the same one twice at this shop.
        while True:
            lines, total = redemption_phase.basket(world.rng)
            signature = tuple(sorted((line["item"], line["quantity"])
                                     for line in lines))
            if signature not in signatures:
                signatures.add(signature)
                return lines, total

    _spaced(world, case, 13, 10, basket=fresh_basket)


PLAYERS = {
    "village_burst": _play_village,
    "consecutive_serials": _play_serials,
    "identical_baskets": _play_identical,
    "single_line_face_value": _play_single_line,
    "institution_basket": _play_institution,
    "outside_opening_hours": _play_late,
    "removed_from_roster": _play_removed,
    "merchant_volume": _play_volume,
}


# -- the audit and the figures ---------------------------------------------------------

def audit_rejections(flags: dict) -> list[dict]:
    """Commerce's rejections of one merchant's flagged redemptions, with the reasons."""
    reasons = defaultdict(list)
    for flag in flags["flags"]:
        for redemption_id in flag["redemption_ids"]:
            reasons[redemption_id].append(
                f"{flag['label']}（{flag['rule']}）：{flag['explanation']}")
    return [{"redemption_id": redemption_id, "reason": "；".join(texts)[:500]}
            for redemption_id, texts in sorted(reasons.items())]


def summary_figures(world) -> dict:
    """Flags per rule, and what was planted, refused at the till or not planted."""
    flags = (getattr(world, "cashout_flags", None) or {}).get("flags", [])
    flags_by_rule = Counter(flag["rule"] for flag in flags)
    flagged = defaultdict(set)
    for flag in flags:
        flagged[flag["rule"]].update(flag["redemption_ids"])
    planted = Counter(case.rule for case in world.cashout_cases)
    return {
        "thresholds": dict(THRESHOLDS),
        "flags_by_rule": {rule: flags_by_rule.get(rule, 0) for rule in RULES},
        "flagged_redemptions_by_rule": {rule: len(flagged.get(rule, ()))
                                        for rule in RULES},
        "planted_by_rule": {rule: planted.get(rule, 0) for rule in RULES},
        "planted": [case.view() for case in world.cashout_cases],
        "refused_at_till": [case.view() for case in world.cashout_refused],
        "not_planted": dict(world.cashout_skipped),
    }
