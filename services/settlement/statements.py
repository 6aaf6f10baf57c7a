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

REASON_LABELS = {
    Reason.PRE_ALLOCATION: "省财政预拨", Reason.ALLOCATION: "分配至镇（街道）",
    Reason.ALLOCATION_ADJUSTMENT: "花名册更正调整分配",
    Reason.REIMBURSEMENT: "核销报销", Reason.MERCHANT_PAYMENT: "支付商超",
    Reason.REFUND: "清算退回", Reason.TOP_UP: "清算补足", Reason.REVERSAL: "冲正",
}
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
        summary=_summary(line.transfer),
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


def _summary(transfer) -> str:
    label = REASON_LABELS[transfer.reason]
    return f"{label}：{transfer.memo}" if transfer.memo else label


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
