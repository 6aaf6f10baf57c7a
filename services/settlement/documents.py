"""Settlement statements per township, per merchant and for the district.

A statement lists the account's summary figures and every transfer with a running
balance, followed by lines where the finance officers sign. The renderers are pure
functions from the plain data below to file bytes. Money is int fen and times are
aware ``datetime`` values, shown in campaign local time.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Sequence

from aixin import pdf
from aixin.spreadsheet import DATETIME, MONEY, TEXT, Column, Sheet, build_workbook

TOWNSHIP = "township"
MERCHANT = "merchant"
DISTRICT = "district"

TITLE_SUFFIXES = {
    TOWNSHIP: "爱心消费券资金结算单",
    MERCHANT: "爱心消费券核销结算单",
    DISTRICT: "爱心消费券资金清算表",
}
SIGNERS = {
    TOWNSHIP: ("镇（街道）经办人", "镇（街道）负责人", "区财政局审核人"),
    MERCHANT: ("商超经办人", "区商务局审核人", "区财政局经办人"),
    DISTRICT: ("区财政局经办人", "区财政局负责人"),
}


@dataclass(frozen=True)
class StatementEntry:
    """One transfer as the account sees it.

    ``amount_fen`` is positive for money the account received and negative for
    money it paid out. ``summary`` is the Chinese reason (摘要).
    """

    occurred_at: datetime
    summary: str
    counterparty: str
    amount_fen: int
    transfer_id: str


@dataclass(frozen=True)
class StatementFigure:
    """A labelled amount of the summary, for example 应退回 or 已支付商超."""

    label: str
    amount_fen: int


@dataclass(frozen=True)
class Statement:
    """The statement of one account: ``kind`` is township, merchant or district.

    ``entries`` are in booking order. The opening balance, the sums in and out and
    the closing balance are computed and listed before ``figures``.
    """

    kind: str
    campaign_name: str
    account_name: str
    as_of: datetime
    entries: Sequence[StatementEntry]
    figures: Sequence[StatementFigure] = field(default_factory=tuple)
    opening_balance_fen: int = 0

    def __post_init__(self):
        if self.kind not in TITLE_SUFFIXES:
            known = ", ".join(TITLE_SUFFIXES)
            raise ValueError(
                f"unknown statement kind {self.kind!r}: use one of {known}"
            )


FIGURE_COLUMNS = (Column("项目", TEXT, 30), Column("金额（元）", MONEY, 18))
ENTRY_COLUMNS = (
    Column("时间", DATETIME, 20),
    Column("摘要", TEXT, 30),
    Column("对方账户", TEXT, 22),
    Column("收入（元）", MONEY, 14),
    Column("支出（元）", MONEY, 14),
    Column("余额（元）", MONEY, 14),
    Column("转账编号", TEXT, 20),
)


def _entry_rows(statement: Statement) -> list:
    """Return the entry rows with each one's running balance."""
    balance = statement.opening_balance_fen
    rows = []
    for entry in statement.entries:
        balance += entry.amount_fen
        received = entry.amount_fen if entry.amount_fen > 0 else None
        paid = -entry.amount_fen if entry.amount_fen < 0 else None
        rows.append((
            entry.occurred_at,
            entry.summary,
            entry.counterparty,
            received,
            paid,
            balance,
            entry.transfer_id,
        ))
    return rows


def _entry_totals(statement: Statement) -> tuple:
    received = sum(e.amount_fen for e in statement.entries if e.amount_fen > 0)
    paid = sum(-e.amount_fen for e in statement.entries if e.amount_fen < 0)
    closing = statement.opening_balance_fen + received - paid
    return ("合计", None, None, received, paid, closing, None)


def _figure_rows(statement: Statement) -> list:
    _, _, _, received, paid, closing, _ = _entry_totals(statement)
    rows = [
        ("期初余额", statement.opening_balance_fen),
        ("本期收入", received),
        ("本期支出", paid),
        ("期末余额", closing),
    ]
    rows += [(figure.label, figure.amount_fen) for figure in statement.figures]
    return rows


def _title(statement: Statement) -> str:
    return statement.account_name + TITLE_SUFFIXES[statement.kind]


def _subtitle(statement: Statement) -> str:
    as_of = pdf.cell_text(DATETIME, statement.as_of)
    return f"{statement.campaign_name}    截至：{as_of}"


def render_statement_xlsx(statement: Statement) -> bytes:
    """Render a statement as XLSX: a summary sheet to sign and the transfers."""
    summary = Sheet(
        name="结算汇总",
        title=_title(statement),
        subtitle=_subtitle(statement),
        columns=FIGURE_COLUMNS,
        rows=_figure_rows(statement),
        sign_off=SIGNERS[statement.kind],
    )
    entries = Sheet(
        name="资金流水",
        title=f"{_title(statement)}：资金流水",
        subtitle=_subtitle(statement),
        columns=ENTRY_COLUMNS,
        rows=_entry_rows(statement),
        totals=_entry_totals(statement),
    )
    return build_workbook([summary, entries])


def render_statement_pdf(statement: Statement) -> bytes:
    """Render a statement as a landscape A4 PDF that the officers sign."""
    title = _title(statement)
    width = pdf.frame_width(is_landscape=True)
    flowables = pdf.title_flowables(title, _subtitle(statement))
    figures = pdf.table_flowable(FIGURE_COLUMNS, _figure_rows(statement), width / 2)
    figures.hAlign = "LEFT"
    flowables.append(figures)
    flowables += pdf.notes_flowables(("资金流水：",))
    flowables.append(
        pdf.table_flowable(
            ENTRY_COLUMNS, _entry_rows(statement), width, _entry_totals(statement)
        )
    )
    flowables += pdf.sign_off_flowables(SIGNERS[statement.kind])
    return pdf.build_document(flowables, title, is_landscape=True)
