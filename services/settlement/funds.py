"""The province's pre-allocation and the allocation to townships.

The expected pre-allocation is the published roster's eligible count times the face
value. The allocation proposal uses the amended counts. Approving it posts one
district -> township transfer per township and announces each as funds_allocated,
which issuance waits for before handing vouchers out.
"""

import logging
import uuid

from sqlalchemy import update

from aixin.clock import as_local
from aixin.commands import record_audit
from aixin.errors import Conflict, InvalidInput
from aixin.outbox import record_event
from services.settlement import store
from services.settlement.domain.allocation import (allocated_by_township,
                                                   allocation_proposal,
                                                   allocation_transfers,
                                                   expected_pre_allocation,
                                                   pre_allocation_status,
                                                   pre_allocation_transfer)
from services.settlement.domain.ledger import DISTRICT, account_key
from services.settlement.models import campaigns

log = logging.getLogger(__name__)


def expected_fen(session, campaign) -> int:
    published = sum(row.published_eligible
                    for row in store.load_townships(session, campaign.campaign_id))
    return expected_pre_allocation(published, campaign.face_value_fen)


def record_pre_allocation(session, campaign_id: str, payload: dict, actor: str,
                          now) -> dict:
    """Record money that arrived from the province and announce funds_received."""
    received_at = as_local(payload["received_at"])
    if received_at > now:
        raise InvalidInput("received_at_in_future",
                           f"到账时间 {received_at.isoformat()} 晚于当前时间："
                           "请填写实际到账时间。", received_at=received_at.isoformat())
    campaign = store.load_campaign(session, campaign_id, lock=True)
    ledger = store.load_ledger(session, campaign_id)
    loaded = len(ledger)
    transfer = ledger.post(pre_allocation_transfer(
        payload["amount_fen"], f"receipt:{uuid.uuid4()}", received_at, payload["memo"]))
    store.save_new(session, campaign_id, ledger, loaded)
    expected = expected_fen(session, campaign)
    record_audit(session, now, actor, "record_pre_allocation", campaign_id,
                 amount_fen=payload["amount_fen"], transfer_id=transfer.transfer_id)
    record_event(session, "funds_received", {
        "campaign_id": campaign_id, "amount_fen": payload["amount_fen"],
        "expected_fen": expected, "received_at": received_at}, now)
    return {**_status(ledger.transfers, expected), "transfer_id": transfer.transfer_id}


def pre_allocation(session, campaign_id: str) -> dict:
    campaign = store.load_campaign(session, campaign_id)
    ledger = store.load_ledger(session, campaign_id)
    return _status(ledger.transfers, expected_fen(session, campaign))


def _status(transfers, expected: int) -> dict:
    status = pre_allocation_status(transfers, expected)
    return {
        "expected_fen": status.expected_fen,
        "received_fen": status.received_fen,
        "difference_fen": status.difference_fen,
        "receipts": [{"received_at": moment.isoformat(), "amount_fen": amount}
                     for moment, amount in status.receipts],
    }


def allocation(session, campaign_id: str) -> dict:
    """List per township the proposal from the amended count and what was allocated."""
    campaign = store.load_campaign(session, campaign_id)
    rows = store.load_townships(session, campaign_id)
    proposal = allocation_proposal({row.township_code: row.eligible for row in rows},
                                   campaign.face_value_fen)
    allocated = allocated_by_township(store.load_ledger(session, campaign_id).transfers)
    items = [{
        "township_code": row.township_code, "name": row.name,
        "published_eligible": row.published_eligible, "eligible": row.eligible,
        "proposed_fen": proposal[row.township_code],
        "allocated_fen": allocated.get(row.township_code, 0),
    } for row in rows]
    return {
        "campaign_id": campaign_id, "face_value_fen": campaign.face_value_fen,
        "approved_at": store.iso(campaign.allocation_approved_at),
        "approved_by": campaign.allocation_approved_by,
        "proposed_fen": sum(proposal.values()),
        "allocated_fen": sum(allocated.values()),
        "townships": items,
    }


def approve_allocation(session, campaign_id: str, payload: dict, actor: str,
                       now) -> dict:
    """Post the approved allocation and announce funds_allocated per township."""
    campaign = store.load_campaign(session, campaign_id, lock=True)
    if campaign.allocation_approved_at is not None:
        raise Conflict("allocation_already_approved",
                       f"活动 {campaign_id} 的资金分配已于 "
                       f"{store.iso(campaign.allocation_approved_at)} 审批；"
                       "花名册更正会自动调整分配。", campaign_id=campaign_id)
    rows = store.load_townships(session, campaign_id)
    if not rows:
        raise Conflict("roster_not_published",
                       f"活动 {campaign_id} 的花名册尚未发布完成，无法按人数分配资金："
                       "请待民政局发布花名册后再审批。", campaign_id=campaign_id)
    proposal = allocation_proposal({row.township_code: row.eligible for row in rows},
                                   campaign.face_value_fen)
    ledger = store.load_ledger(session, campaign_id)
    loaded = len(ledger)
    for transfer in allocation_transfers(proposal, f"allocation:{campaign_id}", now):
        ledger.post(transfer)
    posted = store.save_new(session, campaign_id, ledger, loaded)
    session.execute(update(campaigns).where(campaigns.c.campaign_id == campaign_id)
                    .values(allocation_approved_at=now, allocation_approved_by=actor))
    for transfer in posted:
        record_event(session, "funds_allocated", {
            "campaign_id": campaign_id, "township_code": account_key(transfer.credit),
            "amount_fen": transfer.amount_fen, "transfer_id": transfer.transfer_id,
            "allocated_at": now}, now)
    record_audit(session, now, actor, "approve_allocation", campaign_id,
                 payload.get("reason"), allocated_fen=sum(proposal.values()))
    district_balance = ledger.balance(DISTRICT)
    if district_balance < 0:
        # NOTE: approval is not blocked, so a negative balance shows money still due.
        log.warning("allocation exceeds funds received campaign_id=%s "
                    "district_balance_fen=%s", campaign_id, district_balance)
    return {**allocation(session, campaign_id),
            "district_balance_fen": district_balance}
