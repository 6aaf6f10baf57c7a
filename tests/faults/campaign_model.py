"""An independent model of a campaign, built only from the client's requests and replies.

``ModelledCampaign`` plays a small campaign through the gateway with the simulator's
``World`` and set-up phase, retrying each state change with the same idempotency key
through faults (``harness.retrying``). It records what the gateway accepted or rejected
in a ``CampaignModel``. The model contains the vouchers printed per township and those
handed out and voided. It also contains each accepted redemption with its voucher part
and the part the person paid, and each rejection by its code.

``compare_with_services`` reads what the services say after the queues drained (the
reporting summary, the settlement balances, each township's identity check and the
redemption list) and returns every difference from the model. The model reads no
database and no event, so a fault that loses or doubles an effect inside the system
shows up as a difference.
"""

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from simulator import setup_phase
from simulator.client import GatewayError
from simulator.dates import at
from simulator.redemption_phase import basket
from tests.faults.harness import SmallCampaign, retrying, small_roster

OPERATOR = "村委会经办人"


@dataclass
class AcceptedRedemption:
    serial: str
    township_code: str
    voucher_part_fen: int
    paid_by_person_fen: int
    total_fen: int


@dataclass
class CampaignModel:
    """The gateway's replies to the client, per township and in total."""

    printed: Counter = field(default_factory=Counter)  # township code -> vouchers
    handed_out: dict = field(default_factory=dict)  # serial -> township code
    voided: dict = field(default_factory=dict)  # serial -> township code
    redemptions: dict = field(default_factory=dict)  # redemption id -> AcceptedRedemption
    rejections: Counter = field(default_factory=Counter)  # rejection code -> count
    expected_rejections: Counter = field(default_factory=Counter)

    def township_figures(self, code: str) -> dict:
        """Return the reporting summary's counters for one township, as the model predicts."""
        redeemed = [r for r in self.redemptions.values() if r.township_code == code]
        handed_out = sum(1 for township in self.handed_out.values() if township == code)
        return {
            "printed": self.printed[code],
            "issued": handed_out,
            "handed_out": handed_out,
            "voided": sum(1 for township in self.voided.values() if township == code),
            "redeemed_count": len(redeemed),
            "redeemed_fen": sum(r.voucher_part_fen for r in redeemed),
            "paid_by_person_fen": sum(r.paid_by_person_fen for r in redeemed),
        }


class ModelledCampaign:
    """A small campaign whose every accepted or rejected request goes into a model."""

    def __init__(self, fault_system, seed: int, roster_rows: int):
        self.small = SmallCampaign(fault_system, seed)
        self.fault_system = fault_system
        self.world = self.small.world
        self.dates = self.small.dates
        self.rng = self.world.rng
        self.roster_rows = roster_rows
        self.model = CampaignModel()
        self.holders = {}  # serial -> (township, check_code), handed out and unredeemed
        self.spent = {}  # serial -> (township, check_code), redeemed

    def set_up(self) -> None:
        """Create the campaign, publish the roster, fund the townships and print."""
        world = self.world
        self.small.create()
        setup_phase.import_and_publish_roster(
            world, [small_roster(self.fault_system.folder, self.roster_rows)])
        setup_phase.fund_the_townships(world, self.dates)
        setup_phase.print_vouchers(world)
        for township in self.small.townships():
            self.model.printed[township.code] = len(township.stock)

    def _waiting_persons(self):
        for township in self.small.townships():
            for person in township.beneficiaries:
                if person["beneficiary_id"] in township.issued:
                    continue
                if person["support_mode"] == "institutional" or not township.stock:
                    continue
                yield township, person

    def hand_out(self, count: int) -> int:
        """Hand out up to ``count`` vouchers, one request each; return how many."""
        world = self.world
        world.set_clock(at(self.dates.funds_due + timedelta(days=2), 10))
        done = 0
        for township, person in list(self._waiting_persons()):
            if done >= count:
                break
            if not township.stock:
                continue
            serial, check_code = township.stock.pop(0)
            retrying(township.actor.post,
                     f"{world.campaign_path}/townships/{township.code}/handouts",
                     json={"serial": serial, "beneficiary_id": person["beneficiary_id"],
                           "recipient_kind": "self", "operator": OPERATOR},
                     idempotency_key=uuid.uuid4().hex)
            township.issued[person["beneficiary_id"]] = (serial, check_code)
            self.model.handed_out[serial] = township.code
            self.holders[serial] = (township, check_code)
            done += 1
        return done

    def void_one(self) -> None:
        """Void one voucher still in stock, as damaged."""
        township = next(t for t in self.small.townships() if t.stock)
        serial, _ = township.stock.pop(0)
        retrying(township.actor.post,
                 f"{self.world.campaign_path}/townships/{township.code}/voids",
                 json={"serial": serial, "reason": "damaged", "operator": OPERATOR,
                       "note": "印制破损"}, idempotency_key=uuid.uuid4().hex)
        self.model.voided[serial] = township.code

    def try_second_handout(self) -> None:
        """Hand a second voucher to a person who already has one: must be rejected."""
        township = next(t for t in self.small.townships() if t.issued and t.stock)
        beneficiary_id = next(iter(township.issued))
        serial, _ = township.stock[0]
        self._expect_rejection(
            "beneficiary_already_has_voucher", township.actor.post,
            f"{self.world.campaign_path}/townships/{township.code}/handouts",
            json={"serial": serial, "beneficiary_id": beneficiary_id,
                  "recipient_kind": "self", "operator": OPERATOR})

    def redeem(self, count: int) -> int:
        """Redeem up to ``count`` handed-out vouchers; return how many."""
        self.world.set_clock(at(self.dates.funds_due + timedelta(days=20), 10))
        done = 0
        for serial in list(self.holders):
            if done >= count:
                break
            township, check_code = self.holders.pop(serial)
            self._redeem(township, serial, check_code)
            self.spent[serial] = (township, check_code)
            done += 1
        return done

    def _redeem(self, township, serial: str, check_code: str) -> None:
        merchant = self.rng.choice(township.merchants)
        lines, total = basket(self.rng)
        reply = retrying(merchant.actor.post, f"{self.world.campaign_path}/redemptions",
                         json=_redemption_request(serial, check_code, lines, total),
                         idempotency_key=uuid.uuid4().hex)
        self.model.redemptions[reply["redemption_id"]] = AcceptedRedemption(
            serial=reply["serial"], township_code=township.code,
            voucher_part_fen=reply["voucher_part_fen"],
            paid_by_person_fen=reply["paid_by_person_fen"], total_fen=reply["total_fen"])

    def try_second_redemption(self) -> None:
        """Redeem a redeemed voucher again, with a new key: must be rejected."""
        serial, (township, check_code) = next(iter(self.spent.items()))
        lines, total = basket(self.rng)
        self._expect_rejection(
            "voucher_already_redeemed", township.merchants[0].actor.post,
            f"{self.world.campaign_path}/redemptions",
            json=_redemption_request(serial, check_code, lines, total))

    def _expect_rejection(self, code: str, operation, *args, **kwargs) -> None:
        """Run a request that must be rejected; 5xx responses are retried with its key."""
        self.model.expected_rejections[code] += 1
        try:
            retrying(operation, *args, idempotency_key=uuid.uuid4().hex, **kwargs)
        except GatewayError as error:
            self.model.rejections[error.code] += 1
            return
        self.model.rejections["accepted"] += 1


def _redemption_request(serial: str, check_code: str, lines: list, total: int) -> dict:
    return {"serial": serial, "check_code": check_code,
            "till_transaction_id": f"T{uuid.uuid4().hex[:12]}", "lines": lines,
            "total_fen": total}


def compare_with_services(campaign: ModelledCampaign) -> list[str]:
    """Return every difference between the model and what the services report."""
    model = campaign.model
    world = campaign.world
    differences = []

    for redemption_id, accepted in model.redemptions.items():
        if accepted.voucher_part_fen + accepted.paid_by_person_fen != accepted.total_fen:
            differences.append(f"redemption {redemption_id}: voucher part and the part "
                               f"paid by the person do not add up to the total")

    leading_group = world.bureaus["leading_group"]
    summary = leading_group.get(f"{world.campaign_path}/summary")
    reported = {row["code"]: row for row in summary["townships"]}
    for code in sorted(set(model.printed) | set(reported)):
        expected = model.township_figures(code)
        row = reported.get(code, {})
        for key, value in expected.items():
            if (row.get(key) or 0) != value:
                differences.append(f"reporting summary {code} {key}: "
                                   f"{row.get(key)!r}, model {value}")

    balances = leading_group.get(f"{world.campaign_path}/settlement/balances")
    if balances["balance_sum_fen"] != 0:
        differences.append(f"settlement balances sum to {balances['balance_sum_fen']} fen")
    if balances["pending_redemptions"] != len(model.redemptions):
        differences.append(f"settlement has {balances['pending_redemptions']} pending "
                           f"redemptions, model {len(model.redemptions)}")

    for township in campaign.small.townships():
        check = township.actor.get(
            f"{world.campaign_path}/townships/{township.code}/identity-check")
        if not check["holds"]:
            differences.append(f"identity check of {township.code} fails: {check}")

    listed = world.bureaus["commerce"].get(f"{world.campaign_path}/redemptions")
    listed_parts = {item["redemption_id"]: (item["serial"], item["voucher_part_fen"])
                    for item in listed}
    model_parts = {redemption_id: (r.serial, r.voucher_part_fen)
                   for redemption_id, r in model.redemptions.items()}
    for redemption_id in sorted(set(listed_parts) - set(model_parts)):
        differences.append(f"redemption {redemption_id} {listed_parts[redemption_id]} "
                           "is listed but no client received it as accepted")
    for redemption_id in sorted(set(model_parts) - set(listed_parts)):
        differences.append(f"accepted redemption {redemption_id} "
                           f"{model_parts[redemption_id]} is not listed")
    for redemption_id in sorted(set(model_parts) & set(listed_parts)):
        if listed_parts[redemption_id] != model_parts[redemption_id]:
            differences.append(f"redemption {redemption_id} is listed as "
                               f"{listed_parts[redemption_id]}, the client received "
                               f"{model_parts[redemption_id]}")

    if model.rejections != model.expected_rejections:
        differences.append(f"rejections {dict(model.rejections)}, expected "
                           f"{dict(model.expected_rejections)}")
    return differences
