"""Settlement's copies of the campaign, the roster counts and the merchants.

Each function applies one consumed event inside the consumer's transaction. A roster
amendment received after the allocation was approved also posts the adjustment
transfers and announces them as funds_allocated with a signed amount.
"""

import logging

from sqlalchemy import delete, insert, select, update

from aixin.clock import as_local
from aixin.errors import Conflict
from aixin.outbox import record_event
from services.settlement import store
from services.settlement.domain.allocation import (RosterAmendment,
                                                   adjustment_transfers, amend_counts)
from services.settlement.domain.ledger import account_key
from services.settlement.models import campaigns, merchants, townships

log = logging.getLogger(__name__)

COUNT_CHANGES = {"remove": -1, "add": 1, "change": 0}


def store_campaign(session, data: dict) -> None:
    campaign_id = data["campaign_id"]
    exists = session.execute(select(campaigns.c.campaign_id)
                             .where(campaigns.c.campaign_id == campaign_id)).first()
    if exists:
        log.warning("campaign already stored, event ignored campaign_id=%s",
                    campaign_id)
        return
    config = {key: (value.isoformat() if hasattr(value, "isoformat") else value)
              for key, value in data.items()}
    session.execute(insert(campaigns).values(
        campaign_id=campaign_id, name=data["name"], district_name=data["district_name"],
        face_value_fen=data["face_value_fen"], config=config))


def store_roster_counts(session, data: dict) -> None:
    """Replace a campaign's township counts with those of a completed publication.

    Raises Conflict once the allocation was approved, because after that only amendments
    may change the counts, so the allocation can follow them by adjustments.
    """
    campaign_id = data["campaign_id"]
    approved = session.execute(select(campaigns.c.allocation_approved_at).where(
        campaigns.c.campaign_id == campaign_id)).scalar()
    if approved is not None:
        raise Conflict("allocation_already_approved",
                       f"活动 {campaign_id} 的资金分配已审批，不能再整体替换花名册人数；"
                       "请以花名册更正的方式调整。", campaign_id=campaign_id)
    session.execute(delete(townships).where(townships.c.campaign_id == campaign_id))
    for township in data["townships"]:
        session.execute(insert(townships).values(
            campaign_id=campaign_id, township_code=township["code"],
            name=township["name"], published_eligible=township["eligible"],
            eligible=township["eligible"], snapshot_id=data["snapshot_id"]))


def apply_amendment(session, event) -> None:
    """Change a township's eligible count by one amendment and adjust its allocation.

    A ``change`` amendment keeps the count: the event names only the beneficiary's
    township after the change, so a move between townships cannot be seen here.
    """
    data = event.data
    change = COUNT_CHANGES[data["kind"]]
    beneficiary = data["beneficiary"]
    code = beneficiary["township_code"]
    if change == 0:
        log.info("amendment keeps counts amendment_id=%s", data["amendment_id"])
        return
    campaign_id = data["campaign_id"]
    campaign = session.execute(select(campaigns).where(
        campaigns.c.campaign_id == campaign_id).with_for_update()).first()
    row = session.execute(select(townships).where(
        townships.c.campaign_id == campaign_id,
        townships.c.township_code == code)).first()
    current = row.eligible if row else 0
    amended = amend_counts({code: current}, [RosterAmendment(code, change)])[code]
    if row is None:
        session.execute(insert(townships).values(
            campaign_id=campaign_id, township_code=code,
            name=beneficiary["township_name"], published_eligible=0, eligible=amended,
            snapshot_id=""))
    else:
        session.execute(update(townships).where(
            townships.c.campaign_id == campaign_id,
            townships.c.township_code == code).values(eligible=amended))
    if campaign is not None and campaign.allocation_approved_at is not None:
        _post_adjustments(session, campaign, event)


def _post_adjustments(session, campaign, event) -> None:
    campaign_id = campaign.campaign_id
    counts = {row.township_code: row.eligible
              for row in store.load_townships(session, campaign_id)}
    ledger = store.load_ledger(session, campaign_id)
    loaded = len(ledger)
    occurred_at = as_local(event.occurred_at)
    adjustments = adjustment_transfers(ledger.transfers, counts,
                                       campaign.face_value_fen, event.id, occurred_at)
    for transfer in adjustments:
        ledger.post(transfer)
    for transfer in store.save_new(session, campaign_id, ledger, loaded):
        incoming = transfer.credit.startswith("township:")
        township = account_key(transfer.credit if incoming else transfer.debit)
        amount = transfer.amount_fen if incoming else -transfer.amount_fen
        record_event(session, "funds_allocated", {
            "campaign_id": campaign_id, "township_code": township, "amount_fen": amount,
            "transfer_id": transfer.transfer_id, "allocated_at": occurred_at},
            occurred_at, event.correlation_id)
        log.info("allocation adjusted campaign_id=%s township=%s amount_fen=%s "
                 "source_event_id=%s", campaign_id, township, amount, event.id)


def store_merchant(session, data: dict) -> None:
    key = (merchants.c.campaign_id == data["campaign_id"],
           merchants.c.merchant_code == data["merchant_code"])
    values = {"name": data["name"],
              "township_codes": sorted(set(data["township_codes"]))}
    if session.execute(select(merchants.c.merchant_code).where(*key)).first():
        session.execute(update(merchants).where(*key).values(**values))
        return
    session.execute(insert(merchants).values(
        campaign_id=data["campaign_id"], merchant_code=data["merchant_code"], **values))
