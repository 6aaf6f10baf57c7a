"""Merchants: what each is owed for its approved redemptions and what it was paid."""

import uuid
from collections import Counter, defaultdict

from sqlalchemy import select

from aixin.clock import as_local
from aixin.commands import record_audit
from aixin.errors import Conflict, InvalidInput, NotFound
from aixin.money import format_yuan
from aixin.outbox import record_event
from services.settlement import store
from services.settlement.domain.reimbursement import (AuditStatus, merchant_positions,
                                                      merchant_payment_transfer)
from services.settlement.models import merchants


def positions(session, campaign_id: str) -> list[dict]:
    """List every merchant's approved, reimbursed, paid, unpaid and pending amounts."""
    store.load_campaign(session, campaign_id)
    redemptions = store.load_redemptions(session, campaign_id)
    transfers = store.load_ledger(session, campaign_id).transfers
    by_merchant = merchant_positions(transfers, redemptions)
    pending = defaultdict(int)
    counts = Counter()
    for redemption in redemptions:
        counts[(redemption.merchant, redemption.status)] += 1
        if redemption.status is AuditStatus.PENDING:
            pending[redemption.merchant] += redemption.voucher_part_fen
    names = {row.merchant_code: row.name for row in session.execute(
        select(merchants).where(merchants.c.campaign_id == campaign_id))}
    codes = sorted(set(names) | set(by_merchant) | set(pending))
    result = []
    for code in codes:
        position = by_merchant.get(code)
        result.append({
            "merchant_code": code, "name": names.get(code),
            "approved_fen": position.approved_fen if position else 0,
            "reimbursed_fen": position.reimbursed_fen if position else 0,
            "paid_fen": position.paid_fen if position else 0,
            "unpaid_fen": position.unpaid_fen if position else 0,
            "pending_fen": pending[code],
            "redemptions": {status.value: counts[(code, status)]
                            for status in AuditStatus},
        })
    return result


def position(session, campaign_id: str, merchant_code: str) -> dict:
    for item in positions(session, campaign_id):
        if item["merchant_code"] == merchant_code:
            return item
    raise NotFound("merchant_not_found",
                   f"活动 {campaign_id} 中没有商超 {merchant_code} 的指定或核销记录："
                   "请核对统一社会信用代码。", merchant_code=merchant_code)


def record_payment(session, campaign_id: str, merchant_code: str, payload: dict,
                   actor: str, now) -> dict:
    """Record money paid to a merchant and announce merchant_paid.

    Raises Conflict when the amount exceeds what the merchant is owed and unpaid.
    """
    paid_at = as_local(payload["paid_at"]) if payload.get("paid_at") else now
    if paid_at > now:
        raise InvalidInput("paid_at_in_future",
                           f"付款时间 {paid_at.isoformat()} 晚于当前时间：请填写实际付款时间。",
                           paid_at=paid_at.isoformat())
    store.load_campaign(session, campaign_id, lock=True)
    owed = position(session, campaign_id, merchant_code)
    amount = payload["amount_fen"]
    if amount > owed["unpaid_fen"]:
        raise Conflict("payment_exceeds_owed",
                       f"付款金额 {format_yuan(amount)} 元超过商超 {merchant_code} 应付未付的 "
                       f"{format_yuan(owed['unpaid_fen'])} 元：请核对付款金额。",
                       merchant_code=merchant_code, amount_fen=amount,
                       unpaid_fen=owed["unpaid_fen"])
    ledger = store.load_ledger(session, campaign_id)
    loaded = len(ledger)
    transfer = ledger.post(merchant_payment_transfer(
        merchant_code, amount, f"payment:{uuid.uuid4()}", paid_at, payload["memo"]))
    store.save_new(session, campaign_id, ledger, loaded)
    record_audit(session, now, actor, "record_merchant_payment", merchant_code,
                 campaign_id=campaign_id, amount_fen=amount,
                 transfer_id=transfer.transfer_id)
    record_event(session, "merchant_paid", {
        "campaign_id": campaign_id, "merchant_code": merchant_code,
        "amount_fen": amount,
        "transfer_id": transfer.transfer_id, "paid_at": paid_at}, now)
    return {**position(session, campaign_id, merchant_code),
            "transfer_id": transfer.transfer_id}
