"""Voiding vouchers, reissuing lost or damaged ones, and ending the hand-out."""

import logging

from sqlalchemy import select, update

from aixin.commands import record_audit
from aixin.errors import Conflict
from aixin.outbox import record_event
from services.issuance import handouts
from services.issuance.domain import states
from services.issuance.domain.voids import VoidReason, allows_reissue
from services.issuance.lookups import (iso, load_beneficiary, load_campaign,
                                       load_township, load_voucher)
from services.issuance.models import beneficiaries, townships, vouchers

log = logging.getLogger(__name__)

# Reasons that end the person's entitlement, so no replacement is handed out later.
ENDING_REASONS = {VoidReason.DECEASED: "deceased"}


def void_voucher(session, voucher, reason: str, actor: str, now,
                 note: str | None = None) -> dict:
    """Void one voucher row for ``reason`` and announce it."""
    new_state = states.void(voucher.state, reason, voucher.serial)
    changed = session.execute(update(vouchers).where(
        vouchers.c.serial == voucher.serial, vouchers.c.state == voucher.state)
        .values(state=new_state, void_reason=str(reason), voided_at=now,
                voided_by=actor))
    if changed.rowcount != 1:
        raise Conflict("voucher_changed",
                       f"券号 {voucher.serial} 的状态刚被其他操作改变，请刷新后重试。",
                       serial=voucher.serial)
    if reason in ENDING_REASONS and voucher.beneficiary_id:
        session.execute(update(beneficiaries).where(
            beneficiaries.c.campaign_id == voucher.campaign_id,
            beneficiaries.c.beneficiary_id == voucher.beneficiary_id)
            .values(status=ENDING_REASONS[reason], status_reason=note))
    record_audit(session, now, actor, "void", voucher.serial, str(reason),
                 note=note, beneficiary_id=voucher.beneficiary_id,
                 previous_state=voucher.state)
    record_event(session, "voucher_voided", {
        "campaign_id": voucher.campaign_id, "serial": voucher.serial,
        "township_code": voucher.township_code,
        "beneficiary_id": voucher.beneficiary_id, "reason": str(reason),
        "voided_at": now}, now)
    return {"serial": voucher.serial, "state": str(new_state), "reason": str(reason),
            "voided_at": now.isoformat(), "beneficiary_id": voucher.beneficiary_id}


def void(session, campaign_id: str, township_code: str, command: dict, actor: str,
         now) -> dict:
    load_campaign(session, campaign_id)
    voucher = load_voucher(session, campaign_id, township_code, command["serial"],
                           for_update=True)
    if command.get("beneficiary_id"):
        voucher = _set_aside_for(session, voucher, command["beneficiary_id"])
    return void_voucher(session, voucher, command["reason"], _who(actor, command),
                        now, command.get("note"))


def _set_aside_for(session, voucher, beneficiary_id: str):
    """Record whose voucher a stock voucher was, before it is voided unhanded.

    This is how a person who cannot be reached, or died before the hand-out,
    shows up as voided in the figures of their village.
    """
    if voucher.beneficiary_id == beneficiary_id:
        return voucher
    if voucher.state != states.VoucherState.IN_STOCK or voucher.beneficiary_id:
        raise Conflict("voucher_bound_to_other",
                       f"券号 {voucher.serial} 已对应其他发放对象，不能记在 "
                       f"{beneficiary_id} 名下。", serial=voucher.serial)
    load_beneficiary(session, voucher.campaign_id, voucher.township_code,
                     beneficiary_id, for_update=True)
    session.execute(update(vouchers).where(vouchers.c.serial == voucher.serial)
                    .values(beneficiary_id=beneficiary_id))
    return session.execute(select(vouchers)
                           .where(vouchers.c.serial == voucher.serial)).one()


def reissue(session, campaign_id: str, township_code: str, command: dict, actor: str,
            now) -> dict:
    """Void a lost or damaged voucher (unless already voided so) and hand out another.

    The replacement goes to the same person with the same recipient kind.
    """
    campaign = load_campaign(session, campaign_id)
    township = load_township(session, campaign_id, township_code)
    late = handouts.check_handout_allowed(session, campaign, township, now)
    old = load_voucher(session, campaign_id, township_code, command["serial"],
                       for_update=True)
    if not old.beneficiary_id:
        raise Conflict("voucher_not_issued",
                       f"券号 {old.serial} 尚未发放给任何人，不能补发。", serial=old.serial)
    voided = None
    if old.state != states.VoucherState.VOIDED:
        voided = void_voucher(session, old, command["reason"], _who(actor, command),
                              now, command.get("note"))
    reason = old.void_reason or command["reason"]
    if not allows_reissue(reason, was_redeemed=old.redeemed_at is not None):
        raise Conflict("reissue_not_allowed",
                       f"券号 {old.serial} 因“{reason}”作废，只有遗失或损坏且未核销的券"
                       "可以补发。", serial=old.serial, reason=reason)
    person = load_beneficiary(session, campaign_id, township_code, old.beneficiary_id,
                              for_update=True)
    new_serial = command.get("new_serial") or handouts.stock_serials(
        session, campaign_id, township_code, 1)[0]
    issued = handouts.bind_voucher(
        session, campaign, township_code, new_serial, person, old.recipient_kind,
        command["operator"], actor, now, late, replaces=old.serial)
    return {"voided": voided, "issued": issued}


def end_handout(session, campaign_id: str, township_code: str, command: dict,
                actor: str, now) -> dict:
    """Void every voucher still in stock as unused and close the township's hand-out."""
    load_campaign(session, campaign_id)
    township = load_township(session, campaign_id, township_code, for_update=True)
    if township.handout_ended_at is not None:
        ended_at = iso(township.handout_ended_at)
        raise Conflict("handout_already_ended",
                       f"本镇（街道）已于 {ended_at} 结束发放。", ended_at=ended_at)
    stock = session.execute(select(vouchers).where(
        vouchers.c.campaign_id == campaign_id,
        vouchers.c.township_code == township_code,
        vouchers.c.state == states.VoucherState.IN_STOCK)
        .order_by(vouchers.c.serial)).all()
    who = _who(actor, command)
    for voucher in stock:
        void_voucher(session, voucher, VoidReason.UNUSED_STOCK, who, now,
                     command.get("note"))
    session.execute(update(townships).where(
        townships.c.campaign_id == campaign_id,
        townships.c.township_code == township_code)
        .values(handout_ended_at=now, handout_ended_by=who))
    record_audit(session, now, who, "end_handout", township_code, command.get("note"),
                 campaign_id=campaign_id, voided_stock=len(stock))
    return {"township_code": township_code, "ended_at": now.isoformat(),
            "voided_serials": [voucher.serial for voucher in stock]}


def _who(actor: str, command: dict) -> str:
    """Name the person who acts, and the token they act through."""
    return f"{command['operator']} ({actor})"
