"""The Commerce Bureau's audit of one merchant's redemptions over a period.

Only pending redemptions take part, so an audit never revisits an earlier decision.
A redemption is approved when its latest statement matched it, unless commerce
rejects it by hand. Every other one is rejected with a reason. Only approved
redemptions are reimbursed, from the ``redemptions_audited`` event.
"""

import logging
import uuid

from sqlalchemy import update

from aixin.commands import record_audit
from aixin.errors import Conflict, InvalidInput
from aixin.outbox import record_event
from services.redemption import flag_checks
from services.redemption.campaigns import load_campaign
from services.redemption.models import audits, redemptions
from services.redemption.periods import (check_period, redemptions_in_period,
                                         require_merchant)

log = logging.getLogger(__name__)

# Rejection reason of a redemption not rejected by hand, keyed by its match status.
AUTOMATIC_REASONS = {
    "unmatched": "no_statement: 商户未上传覆盖该笔核销的交易流水",
    "not_in_statement": "not_in_statement: 商户交易流水中没有这笔核销",
    "mismatched": "statement_mismatch: 交易流水与核销记录不一致",
    "print_log_mismatch": "print_log_mismatch: 该券未为所属镇（街道）印制或未发放",
}


def audit_merchant(session, campaign_id: str, merchant_code: str, request: dict,
                   actor_name: str, now) -> dict:
    load_campaign(session, campaign_id)
    require_merchant(session, campaign_id, merchant_code)
    check_period(request["period_from"], request["period_to"])
    pending = redemptions_in_period(session, campaign_id, merchant_code,
                                    request["period_from"], request["period_to"],
                                    redemptions.c.audit_state == "pending")
    if not pending:
        raise Conflict("nothing_to_audit",
                       f"商超 {merchant_code} 在 {request['period_from']} 至 "
                       f"{request['period_to']} 没有待审核的核销。",
                       merchant_code=merchant_code)
    by_hand = _rejections_by_hand(request["rejections"], pending)
    audit_id = str(uuid.uuid4())
    approved, rejected = [], []
    for redemption in pending:
        reason = by_hand.get(redemption.redemption_id)
        if reason is None and redemption.match_status != "matched":
            reason = AUTOMATIC_REASONS.get(redemption.match_status,
                                           redemption.match_status)
        entry = {"redemption_id": redemption.redemption_id, "serial": redemption.serial,
                 "township_code": redemption.township_code,
                 "voucher_part_fen": redemption.voucher_part_fen, "reason": reason}
        (rejected if reason else approved).append(entry)
        session.execute(update(redemptions)
                        .where(redemptions.c.redemption_id == redemption.redemption_id,
                               redemptions.c.audit_state == "pending")
                        .values(audit_state="rejected" if reason else "approved",
                                audit_id=audit_id, audit_reason=reason))
    approved_fen = sum(entry["voucher_part_fen"] for entry in approved)
    session.execute(audits.insert().values(
        audit_id=audit_id, campaign_id=campaign_id, merchant_code=merchant_code,
        period_from=request["period_from"], period_to=request["period_to"],
        approved_count=len(approved), approved_fen=approved_fen,
        rejected_count=len(rejected), audited_at=now, audited_by=actor_name))
    record_audit(session, now, actor_name, "audit_redemptions", audit_id,
                 campaign_id=campaign_id, merchant_code=merchant_code,
                 approved=len(approved), rejected=len(rejected))
    event = {"campaign_id": campaign_id, "audit_id": audit_id,
             "merchant_code": merchant_code, "audited_at": now,
             "approved": approved, "rejected": rejected}
    record_event(session, "redemptions_audited", event, now)
    flag_checks.close_audited(session, campaign_id, now)
    log.info("redemptions audited audit_id=%s merchant=%s approved=%d rejected=%d",
             audit_id, merchant_code, len(approved), len(rejected))
    return {**event, "audited_at": now.isoformat(), "approved_fen": approved_fen,
            "period_from": request["period_from"].isoformat(),
            "period_to": request["period_to"].isoformat()}


def _rejections_by_hand(rejections: list[dict], pending) -> dict:
    pending_ids = {redemption.redemption_id for redemption in pending}
    unknown = [item["redemption_id"] for item in rejections
               if item["redemption_id"] not in pending_ids]
    if unknown:
        raise InvalidInput(
            "redemption_not_pending",
            f"核销 {', '.join(unknown)} 不在本次审核的待审核核销中：请核对核销编号和时段。",
            redemption_ids=unknown)
    return {item["redemption_id"]: f"rejected_by_commerce: {item['reason']}"
            for item in rejections}
