"""Redemptions as settlement learns of them: pending when redeemed, then audited.

An approval posts the reimbursement township -> merchant. A rejection of a redemption
approved earlier reverses that reimbursement. Each transfer's source id is
``<audit event id>#<redemption id>``, so a replayed audit posts nothing new.
"""

import logging

from sqlalchemy import insert, select, update

from aixin.clock import as_local
from services.settlement import store
from services.settlement.domain.reimbursement import (AuditStatus, Redemption,
                                                      reimbursement_transfer)
from services.settlement.models import redemptions

log = logging.getLogger(__name__)


def record_redemption(session, data: dict) -> None:
    """Record a redemption as pending, unless its audit arrived first."""
    row = _find(session, data["redemption_id"])
    details = {"serial": data["serial"], "redeemed_at": as_local(data["redeemed_at"])}
    if row is not None:
        session.execute(update(redemptions).where(
            redemptions.c.redemption_id == row.redemption_id).values(**details))
        return
    session.execute(insert(redemptions).values(
        redemption_id=data["redemption_id"], campaign_id=data["campaign_id"],
        township_code=data["township_code"], merchant_code=data["merchant_code"],
        voucher_part_fen=data["voucher_part_fen"], status=AuditStatus.PENDING.value,
        **details))


def apply_audit(session, event) -> None:
    """Move the audited redemptions to approved or rejected and post the transfers."""
    data = event.data
    campaign_id = data["campaign_id"]
    store.load_campaign(session, campaign_id, lock=True)
    ledger = store.load_ledger(session, campaign_id)
    loaded = len(ledger)
    audited_at = as_local(data["audited_at"])
    for item in data["approved"]:
        _approve(session, ledger, event.id, data, item, audited_at)
    for item in data["rejected"]:
        _reject(session, ledger, event.id, data, item, audited_at)
    store.save_new(session, campaign_id, ledger, loaded)


def _approve(session, ledger, event_id, data, item, audited_at) -> None:
    row = _upsert(session, data, item)
    if row.status == AuditStatus.APPROVED.value and row.reimbursement_transfer_id:
        log.info("redemption already approved redemption_id=%s audit_id=%s",
                 row.redemption_id, data["audit_id"])
        return
    # The audited voucher part is authoritative over the one redeemed.
    redemption = Redemption(row.redemption_id, row.township_code, row.merchant_code,
                            item["voucher_part_fen"], AuditStatus.APPROVED)
    transfer = ledger.post(reimbursement_transfer(
        redemption, f"{event_id}#{row.redemption_id}", audited_at))
    _set_status(session, row.redemption_id, AuditStatus.APPROVED, data, item,
                audited_at, reimbursement_transfer_id=transfer.transfer_id)


def _reject(session, ledger, event_id, data, item, audited_at) -> None:
    row = _upsert(session, data, item)
    if row.reimbursement_transfer_id:
        ledger.reverse(row.reimbursement_transfer_id, f"{event_id}#{row.redemption_id}",
                       audited_at, memo=f"核销 {row.redemption_id} 审核不通过，冲正报销")
        log.warning("approval withdrawn, reimbursement reversed redemption_id=%s "
                    "transfer_id=%s", row.redemption_id, row.reimbursement_transfer_id)
    _set_status(session, row.redemption_id, AuditStatus.REJECTED, data, item,
                audited_at, reimbursement_transfer_id=None)


def _upsert(session, data: dict, item: dict):
    """Return the redemption's row, inserting it when the audit arrived first."""
    row = _find(session, item["redemption_id"])
    if row is not None:
        return row
    session.execute(insert(redemptions).values(
        redemption_id=item["redemption_id"], campaign_id=data["campaign_id"],
        township_code=item["township_code"], merchant_code=data["merchant_code"],
        serial=item["serial"], voucher_part_fen=item["voucher_part_fen"],
        status=AuditStatus.PENDING.value))
    return _find(session, item["redemption_id"])


def _set_status(session, redemption_id, status, data, item, audited_at,
                reimbursement_transfer_id) -> None:
    session.execute(update(redemptions).where(
        redemptions.c.redemption_id == redemption_id).values(
        status=status.value, audit_id=data["audit_id"], audited_at=audited_at,
        audit_reason=item.get("reason"), voucher_part_fen=item["voucher_part_fen"],
        reimbursement_transfer_id=reimbursement_transfer_id))


def _find(session, redemption_id: str):
    return session.execute(select(redemptions).where(
        redemptions.c.redemption_id == redemption_id)).first()
