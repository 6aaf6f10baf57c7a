"""Reads of redemptions, statements and audits, with the merchant scope enforced.

A merchant can read only its own objects. Another merchant's object reads as not
found, so its existence is not revealed.
"""

from datetime import date

from sqlalchemy import select

from aixin.clock import end_of_day, start_of_day
from aixin.errors import Forbidden, InvalidInput, NotFound
from services.redemption.models import audits, redemptions, statements
from services.redemption.redeeming import result_of
from services.redemption.timestamps import aware

READ_ALL_ROLES = {"commerce", "finance", "leading_group", "admin"}
AUDIT_STATES = ("pending", "approved", "rejected")


def merchant_scope(actor: dict, merchant_code: str | None) -> str | None:
    """Return the merchant a read is limited to, or None for every merchant."""
    role = actor.get("role")
    if role in READ_ALL_ROLES:
        return merchant_code
    if role == "merchant" and actor.get("scope"):
        if merchant_code and merchant_code != actor["scope"]:
            raise _not_found()
        return actor["scope"]
    raise Forbidden("forbidden", "您的角色无权查看核销记录。")


def list_redemptions(session, actor: dict, campaign_id: str, merchant_code=None,
                     date_from=None, date_to=None, audit_state=None) -> list[dict]:
    merchant_code = merchant_scope(actor, merchant_code)
    query = select(redemptions).where(redemptions.c.campaign_id == campaign_id)
    if merchant_code:
        query = query.where(redemptions.c.merchant_code == merchant_code)
    if date_from:
        query = query.where(redemptions.c.redeemed_at >= start_of_day(
            _date("date_from", date_from)))
    if date_to:
        query = query.where(redemptions.c.redeemed_at <= end_of_day(
            _date("date_to", date_to)))
    if audit_state:
        if audit_state not in AUDIT_STATES:
            raise InvalidInput("invalid_audit_state",
                               f"审核状态 {audit_state!r} 无效：可选 {', '.join(AUDIT_STATES)}。")
        query = query.where(redemptions.c.audit_state == audit_state)
    rows = session.execute(query.order_by(redemptions.c.redeemed_at,
                                          redemptions.c.redemption_id))
    return [result_of(row) for row in rows]


def get_redemption(session, actor: dict, campaign_id: str, redemption_id: str) -> dict:
    row = session.execute(select(redemptions).where(
        redemptions.c.campaign_id == campaign_id,
        redemptions.c.redemption_id == redemption_id)).first()
    if row is None or merchant_scope(actor, row.merchant_code) != row.merchant_code:
        raise _not_found()
    return result_of(row)


def list_statements(session, actor: dict, campaign_id: str,
                    merchant_code: str) -> list[dict]:
    merchant_code = merchant_scope(actor, merchant_code)
    rows = session.execute(
        select(statements.c.report, statements.c.uploaded_at)
        .where(statements.c.campaign_id == campaign_id,
               statements.c.merchant_code == merchant_code)
        .order_by(statements.c.uploaded_at))
    return [{key: row.report[key] for key in (
        "statement_id", "filename", "sha256", "period_from", "period_to", "row_count",
        "summary")} | {"uploaded_at": aware(row.uploaded_at).isoformat()}
        for row in rows]


def get_statement(session, actor: dict, campaign_id: str, merchant_code: str,
                  statement_id: str) -> dict:
    merchant_code = merchant_scope(actor, merchant_code)
    row = session.execute(select(statements.c.report).where(
        statements.c.campaign_id == campaign_id,
        statements.c.merchant_code == merchant_code,
        statements.c.statement_id == statement_id)).first()
    if row is None:
        raise _not_found()
    return row.report


def list_audits(session, campaign_id: str, merchant_code=None) -> list[dict]:
    query = select(audits).where(audits.c.campaign_id == campaign_id)
    if merchant_code:
        query = query.where(audits.c.merchant_code == merchant_code)
    return [{
        "audit_id": row.audit_id, "merchant_code": row.merchant_code,
        "period_from": row.period_from.isoformat(),
        "period_to": row.period_to.isoformat(),
        "approved_count": row.approved_count, "approved_fen": row.approved_fen,
        "rejected_count": row.rejected_count,
        "audited_at": aware(row.audited_at).isoformat(), "audited_by": row.audited_by,
    } for row in session.execute(query.order_by(audits.c.audited_at))]


def _date(name: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise InvalidInput("invalid_date", f"参数 {name} 的值 {text!r} 无效：请使用"
                           " 2023-01-31 这样的日期格式。", field=name) from None


def _not_found() -> NotFound:
    return NotFound("not_found", "未找到该对象，或您无权访问。")
