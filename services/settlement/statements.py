"""Settlement statements per township, per merchant and for the district.

Builds the plain data of ``services.settlement.documents`` from the ledger and
returns the rendered file as ``{"filename", "content_type", "content_b64"}``.
"""

import base64

from aixin.errors import InvalidInput
from services.settlement import accounts, payments, store
from services.settlement.funds import pre_allocation
from services.settlement.documents import (DISTRICT as DISTRICT_KIND, MERCHANT,
                                           TOWNSHIP, Statement, StatementEntry,
                                           StatementFigure, render_statement_pdf,
                                           render_statement_xlsx)
from services.settlement.domain.ledger import (DISTRICT, PROVINCE, Reason, account_key,
                                               merchant_account)

# Reasons whose memo adds a fact: the finance officer's note, or the redemption that
# was reimbursed. The other memos only restate the reason, so statements leave them
# out, except a reversal's, which gives its cause.
MEMO_REASONS = {Reason.PRE_ALLOCATION, Reason.MERCHANT_PAYMENT, Reason.REIMBURSEMENT}
RENDERERS = {
    "xlsx": (render_statement_xlsx,
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pdf": (render_statement_pdf, "application/pdf"),
}


def township_statement(session, campaign_id, township_code, file_format, now) -> dict:
    summary = accounts.township_summary(session, campaign_id, township_code)
    figures = (("分配资金（含更正调整）", summary["allocated_fen"]),
               ("审核通过的核销（券面部分）", summary["approved_fen"]),
               ("应退回（负数为应补足）", summary["refund_fen"]),
               ("已清算退回（负数为已补足）", summary["cleared_fen"]))
    return _render(session, campaign_id, TOWNSHIP, summary["name"],
                   f"township:{township_code}", figures, file_format, now,
                   f"{township_code}-结算单")


def merchant_statement(session, campaign_id, merchant_code, file_format, now) -> dict:
    position = payments.position(session, campaign_id, merchant_code)
    figures = (("审核通过的核销（券面部分）", position["approved_fen"]),
               ("已记报销", position["reimbursed_fen"]),
               ("已支付", position["paid_fen"]),
               ("应付未付", position["unpaid_fen"]),
               ("待审核核销", position["pending_fen"]))
    return _render(session, campaign_id, MERCHANT, position["name"] or merchant_code,
                   merchant_account(merchant_code), figures, file_format, now,
                   f"{merchant_code}-结算单")


def district_statement(session, campaign_id, file_format, now) -> dict:
    summary = accounts.balances_summary(session, campaign_id)
    funds = pre_allocation(session, campaign_id)
    figures = (("应预拨（花名册人数×面额）", funds["expected_fen"]),
               ("省财政实际预拨", funds["received_fen"]),
               ("预拨差额（实拨−应拨）", funds["difference_fen"]),
               ("审核通过的核销合计", summary["approved_fen"]),
               ("省财政净支出", summary["province_net_paid_fen"]))
    campaign = store.load_campaign(session, campaign_id)
    return _render(session, campaign_id, DISTRICT_KIND, campaign.district_name,
                   DISTRICT, figures, file_format, now, "区财政清算表")


def _render(session, campaign_id, kind, account_name, account, figures, file_format,
            now, stem) -> dict:
    if file_format not in RENDERERS:
        raise InvalidInput("invalid_format",
                           f"文件格式 {file_format!r} 无效：请选择 xlsx 或 pdf。",
                           format=str(file_format))
    campaign = store.load_campaign(session, campaign_id)
    lines = store.load_ledger(session, campaign_id).statement(account)
    names = _account_names(session, campaign_id, campaign.district_name)
    entries = [StatementEntry(
        occurred_at=line.transfer.occurred_at,
        summary=describe_transfer(line.transfer, names),
        counterparty=names(line.transfer.debit if line.change_fen > 0
                           else line.transfer.credit),
        amount_fen=line.change_fen, transfer_id=line.transfer.transfer_id)
        for line in lines]
    statement = Statement(kind=kind, campaign_name=campaign.name,
                          account_name=account_name, as_of=now, entries=entries,
                          figures=[StatementFigure(label, amount)
                                   for label, amount in figures])
    render, content_type = RENDERERS[file_format]
    return {"filename": f"{campaign_id}-{stem}.{file_format}",
            "content_type": content_type,
            "content_b64": base64.b64encode(render(statement)).decode("ascii")}


def describe_transfer(transfer, name) -> str:
    """Describe a transfer (摘要) by its reason and the accounts it moves money between.

    ``name`` maps an account to the name shown on statements.
    """
    payer, payee = name(transfer.debit), name(transfer.credit)
    reason = transfer.reason
    if reason is Reason.PRE_ALLOCATION:
        text = f"{payer}预拨资金"
    elif reason is Reason.ALLOCATION:
        text = f"按花名册人数分配给{payee}"
    elif reason is Reason.ALLOCATION_ADJUSTMENT:
        text = (f"花名册更正，调增{payee}的分配" if transfer.credit.startswith("township:")
                else f"花名册更正，调减{payer}的分配")
    elif reason is Reason.REIMBURSEMENT:
        text = f"{payer}向{payee}报销核销款"
    elif reason is Reason.MERCHANT_PAYMENT:
        text = (f"{payee}退回多付的报销款" if transfer.debit.startswith("merchant_paid:")
                else f"向{payer}支付报销款")
    elif reason is Reason.REFUND:
        text = f"{payer}清算退回{payee}"
    elif reason is Reason.TOP_UP:
        text = f"{payer}清算补足{payee}"
    else:
        return transfer.memo.strip() or f"冲正转账 {transfer.reverses}"
    memo = transfer.memo.strip() if reason in MEMO_REASONS else ""
    return f"{text}：{memo}" if memo else text


def _account_names(session, campaign_id, district_name):
    townships = {row.township_code: row.name
                 for row in store.load_townships(session, campaign_id)}
    merchants = {item["merchant_code"]: item["name"]
                 for item in payments.positions(session, campaign_id)}

    def name(account: str) -> str:
        if account == PROVINCE:
            return "省财政"
        if account == DISTRICT:
            return f"{district_name}财政局"
        key = account_key(account)
        if account.startswith("township:"):
            return townships.get(key, key)
        suffix = "（已付）" if account.startswith("merchant_paid:") else ""
        return (merchants.get(key) or key) + suffix

    return name
