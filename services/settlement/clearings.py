"""Clearing (多退少补): each township with the district, then the district with the
province, from the audited redemptions only.

A township may be cleared again only when something changed its figures since, such
as a roster amendment. Otherwise a second clearing is rejected.
"""

import logging
import uuid

from sqlalchemy import update

from aixin.commands import record_audit
from aixin.errors import Conflict
from aixin.outbox import record_event
from services.settlement import store
from services.settlement.domain.clearing import (district_clearing,
                                                 district_clearing_transfer,
                                                 township_clearing,
                                                 township_clearing_transfer)
from services.settlement.domain.ledger import PROVINCE
from services.settlement.funds import expected_fen
from services.settlement.models import campaigns, townships

log = logging.getLogger(__name__)


def clear_township(session, campaign_id: str, township_code: str, payload: dict,
                   actor: str, now) -> dict:
    """Refund the township's allocation minus its reimbursements, or top it up.

    Raises DomainError ``township_audit_incomplete`` while any of its redemptions
    awaits the audit.
    """
    campaign = store.load_campaign(session, campaign_id, lock=True)
    _require_allocation(campaign)
    township = store.load_township(session, campaign_id, township_code)
    ledger = store.load_ledger(session, campaign_id)
    loaded = len(ledger)
    clearing = township_clearing(township_code, ledger.transfers,
                                 store.load_redemptions(session, campaign_id))
    if township.cleared_at is not None and clearing.refund_fen == 0:
        raise Conflict("township_already_cleared",
                       f"镇（街道）{township.name} 已于 {store.iso(township.cleared_at)} "
                       "清算，此后账目没有变化，无需再次清算。", township_code=township_code)
    transfer = township_clearing_transfer(clearing, f"township-clearing:{uuid.uuid4()}",
                                          now)
    if transfer is not None:
        ledger.post(transfer)
    store.save_new(session, campaign_id, ledger, loaded)
    session.execute(update(townships).where(
        townships.c.campaign_id == campaign_id,
        townships.c.township_code == township_code).values(cleared_at=now))
    refund = clearing.allocated_fen - clearing.approved_fen
    record_audit(session, now, actor, "clear_township", township_code,
                 payload.get("reason"), campaign_id=campaign_id, refund_fen=refund,
                 moved_fen=clearing.refund_fen)
    record_event(session, "township_cleared", {
        "campaign_id": campaign_id, "township_code": township_code,
        "allocated_fen": clearing.allocated_fen,
        "reimbursed_fen": clearing.approved_fen,
        "refund_fen": refund, "cleared_at": now}, now)
    log.info("township cleared campaign_id=%s township=%s refund_fen=%s",
             campaign_id, township_code, refund)
    return {
        "township_code": township_code, "name": township.name,
        "allocated_fen": clearing.allocated_fen,
        "reimbursed_fen": clearing.approved_fen,
        "refund_fen": refund, "moved_fen": clearing.refund_fen,
        "transfer_id": transfer.transfer_id if transfer else None,
        "cleared_at": now.isoformat(),
    }


def clear_district(session, campaign_id: str, payload: dict, actor: str, now) -> dict:
    """Refund the province what it sent minus all reimbursements, or ask a top-up.

    Raises DomainError while a redemption awaits the audit or a township is not
    cleared.
    """
    campaign = store.load_campaign(session, campaign_id, lock=True)
    _require_allocation(campaign)
    ledger = store.load_ledger(session, campaign_id)
    loaded = len(ledger)
    clearing = district_clearing(ledger.transfers,
                                 store.load_redemptions(session, campaign_id),
                                 expected_fen(session, campaign))
    if campaign.district_cleared_at is not None and clearing.refund_fen == 0:
        raise Conflict("district_already_cleared",
                       f"活动 {campaign_id} 已于 {store.iso(campaign.district_cleared_at)} "
                       "与省财政清算，此后账目没有变化，无需再次清算。",
                       campaign_id=campaign_id)
    transfer = district_clearing_transfer(
        clearing, f"district-clearing:{uuid.uuid4()}", now)
    if transfer is not None:
        ledger.post(transfer)
    store.save_new(session, campaign_id, ledger, loaded)
    session.execute(update(campaigns).where(campaigns.c.campaign_id == campaign_id)
                    .values(district_cleared_at=now))
    refund = clearing.received_fen - clearing.needed_fen
    record_audit(session, now, actor, "clear_district", campaign_id,
                 payload.get("reason"), refund_fen=refund,
                 moved_fen=clearing.refund_fen)
    record_event(session, "district_cleared", {
        "campaign_id": campaign_id, "received_fen": clearing.received_fen,
        "reimbursed_fen": clearing.needed_fen, "refund_fen": refund,
        "cleared_at": now}, now)
    log.info("district cleared campaign_id=%s refund_fen=%s", campaign_id, refund)
    return {
        "campaign_id": campaign_id, "expected_fen": clearing.expected_fen,
        "received_fen": clearing.received_fen,
        "pre_allocation_difference_fen": clearing.pre_allocation_difference_fen,
        "reimbursed_fen": clearing.needed_fen, "refund_fen": refund,
        "moved_fen": clearing.refund_fen,
        "province_net_paid_fen": -ledger.balance(PROVINCE),
        "transfer_id": transfer.transfer_id if transfer else None,
        "cleared_at": now.isoformat(),
    }


def _require_allocation(campaign) -> None:
    if campaign.allocation_approved_at is None:
        raise Conflict("allocation_not_approved",
                       f"活动 {campaign.campaign_id} 的资金分配尚未审批，不能清算："
                       "请先审批分配方案。", campaign_id=campaign.campaign_id)
