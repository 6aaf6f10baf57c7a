"""Reporting documents: the Monday weekly report and the early-March joint report.

Both renderers are pure functions from the plain data below to file bytes. Money
is int fen, counts are ints, and dates are ``datetime.date`` or aware
``datetime``. Rates are computed here from the counts.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Sequence

from aixin import pdf
from aixin.spreadsheet import DATETIME, INTEGER, MONEY, PERCENT, Column, Sheet
from aixin.spreadsheet import build_workbook

JOINT_SIGNERS = ("区商务局", "区财政局", "区民政局")


def rate(part: int, whole: int) -> Decimal | None:
    """Return part / whole as a Decimal ratio, or None (a blank cell) for whole 0."""
    if whole == 0:
        return None
    return Decimal(part) / Decimal(whole)


def _chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class WeeklyRow:
    """Last week's and cumulative figures of one township or village.

    ``late_total`` counts hand-outs after Spring Festival. ``open_flags`` holds the
    Chinese text of each flag not yet resolved.
    """

    unit_name: str
    eligible: int
    handed_out_week: int
    handed_out_total: int
    late_total: int
    redeemed_week: int
    redeemed_total: int
    redeemed_amount_week_fen: int
    redeemed_amount_total_fen: int
    open_flags: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True)
class WeeklyReport:
    """The weekly report of a township or of the district.

    A township's rows are its villages and the district's rows are its townships;
    ``unit_label`` is the header of their column (村（社区） or 镇（街道）).
    """

    campaign_name: str
    scope_name: str
    unit_label: str
    week_start: date
    week_end: date
    generated_at: datetime
    rows: Sequence[WeeklyRow]
    # The distinct open flags of the scope; None counts each row's flags.
    open_flags_total: int | None = None


WEEKLY_COLUMNS = (
    Column("单位"),
    Column("应发人数", INTEGER),
    Column("本周发放", INTEGER),
    Column("累计发放", INTEGER),
    Column("发放率", PERCENT),
    Column("其中节后发放", INTEGER, 14),
    Column("本周核销张数", INTEGER, 14),
    Column("累计核销张数", INTEGER, 14),
    Column("核销率", PERCENT),
    Column("本周核销金额（元）", MONEY, 20),
    Column("累计核销金额（元）", MONEY, 20),
    Column("未关闭标记", INTEGER, 12),
)
FLAG_COLUMNS = (Column("单位", width=24), Column("标记说明", width=70))


def _weekly_values(name: str, figures: Sequence[int], flags: int) -> tuple:
    (eligible, week_out, total_out, late, week_redeemed, total_redeemed,
     week_amount, total_amount) = figures
    return (
        name,
        eligible,
        week_out,
        total_out,
        rate(total_out, eligible),
        late,
        week_redeemed,
        total_redeemed,
        rate(total_redeemed, total_out),
        week_amount,
        total_amount,
        flags,
    )


def _weekly_figures(row: WeeklyRow) -> tuple:
    return (
        row.eligible,
        row.handed_out_week,
        row.handed_out_total,
        row.late_total,
        row.redeemed_week,
        row.redeemed_total,
        row.redeemed_amount_week_fen,
        row.redeemed_amount_total_fen,
    )


def _weekly_totals(report: WeeklyReport) -> tuple:
    """Return the 合计 row, whose rates come from the summed counts, not averages.

    A flag that names vouchers of two units shows in both rows but counts once here
    when the report gives ``open_flags_total``.
    """
    rows = report.rows
    sums = [sum(column) for column in zip(*map(_weekly_figures, rows))] or [0] * 8
    flags = report.open_flags_total
    if flags is None:
        flags = sum(len(row.open_flags) for row in rows)
    return _weekly_values("合计", sums, flags)


def render_weekly_report(report: WeeklyReport) -> bytes:
    """Render the Monday weekly report XLSX: the figures and the open flags."""
    generated = pdf.cell_text(DATETIME, report.generated_at)
    columns = (Column(report.unit_label),) + WEEKLY_COLUMNS[1:]
    rows = [
        _weekly_values(row.unit_name, _weekly_figures(row), len(row.open_flags))
        for row in report.rows
    ]
    flags = [(row.unit_name, flag) for row in report.rows for flag in row.open_flags]
    figures = Sheet(
        name="周报",
        title=f"{report.campaign_name}发放核销周报（{report.scope_name}）",
        subtitle=(
            f"统计周期：{_chinese_date(report.week_start)} 至 "
            f"{_chinese_date(report.week_end)}    生成时间：{generated}"
        ),
        columns=columns,
        rows=rows,
        totals=_weekly_totals(report),
        notes=("发放率 = 累计发放 ÷ 应发人数；核销率 = 累计核销张数 ÷ 累计发放。",),
        sign_off=("填报人", "审核人"),
    )
    open_flags = Sheet(
        name="未关闭标记",
        title=f"未关闭标记（{report.scope_name}）",
        columns=(Column(report.unit_label, width=24),) + FLAG_COLUMNS[1:],
        rows=flags,
    )
    return build_workbook([figures, open_flags])


@dataclass(frozen=True)
class JointRow:
    """One township's audited figures for the joint report.

    ``reimbursed_fen`` is what merchants are owed for audited redemptions, which
    decides the refund (allocated above reimbursed) or top-up (below).
    """

    township_name: str
    eligible: int
    handed_out: int
    redeemed_count: int
    redeemed_amount_fen: int
    allocated_fen: int
    reimbursed_fen: int
    open_flags: int = 0


@dataclass(frozen=True)
class JointReport:
    """The joint report of the Commerce, Finance and Civil Affairs bureaus."""

    campaign_name: str
    district_name: str
    as_of: date
    prepared_on: date
    rows: Sequence[JointRow]
    # The distinct open flags of the district; None sums the townships' counts.
    open_flags_total: int | None = None


JOINT_COLUMNS = (
    Column("镇（街道）", width=16),
    Column("应发人数", INTEGER),
    Column("已发放张数", INTEGER, 11),
    Column("已核销张数", INTEGER, 11),
    Column("核销金额（元）", MONEY, 16),
    Column("未核销张数", INTEGER, 11),
    Column("拨付资金（元）", MONEY, 16),
    Column("已结算商超（元）", MONEY, 17),
    Column("应退回（元）", MONEY, 14),
    Column("应补拨（元）", MONEY, 14),
    Column("未关闭标记", INTEGER, 11),
)
JOINT_NOTES = (
    "未核销张数 = 已发放张数 − 已核销张数。",
    "拨付资金多于已结算商超金额的部分应退回，少于的部分应补拨（多退少补）。",
    "未关闭标记：尚有核销未经审核的套现可疑标记条数；同一标记涉及两个镇（街道）时合计只计一次。",
)


def _joint_values(row: JointRow) -> tuple:
    difference = row.allocated_fen - row.reimbursed_fen
    return (
        row.township_name,
        row.eligible,
        row.handed_out,
        row.redeemed_count,
        row.redeemed_amount_fen,
        row.handed_out - row.redeemed_count,
        row.allocated_fen,
        row.reimbursed_fen,
        max(difference, 0),
        max(-difference, 0),
        row.open_flags,
    )


def _joint_rows_and_totals(report: JointReport) -> tuple[list, list]:
    rows = [_joint_values(row) for row in report.rows]
    totals = ["合计", *(sum(values[index] for values in rows)
                      for index in range(1, len(JOINT_COLUMNS)))]
    if report.open_flags_total is not None:
        totals[-1] = report.open_flags_total
    return rows, totals


def _joint_title(report: JointReport) -> str:
    """Return the title; a campaign named after its district names it only once."""
    name = report.campaign_name
    if report.district_name not in name:
        name = f"{report.district_name}{name}"
    return f"{name}发放核销情况联合报告"


def _joint_subtitle(report: JointReport) -> str:
    return (
        f"数据截至：{_chinese_date(report.as_of)}    "
        f"编制日期：{_chinese_date(report.prepared_on)}"
    )


def render_joint_report_xlsx(report: JointReport) -> bytes:
    """Render the joint report as XLSX with totals and the three bureaus' lines."""
    rows, totals = _joint_rows_and_totals(report)
    sheet = Sheet(
        name="联合报告",
        title=_joint_title(report),
        subtitle=_joint_subtitle(report),
        columns=JOINT_COLUMNS,
        rows=rows,
        totals=totals,
        notes=JOINT_NOTES,
        sign_off=JOINT_SIGNERS,
    )
    return build_workbook([sheet])


def render_joint_report_pdf(report: JointReport) -> bytes:
    """Render the joint report as a landscape A4 PDF for the three bureaus to sign."""
    rows, totals = _joint_rows_and_totals(report)
    return pdf.build_table_pdf(
        _joint_title(report),
        JOINT_COLUMNS,
        rows,
        subtitle=_joint_subtitle(report),
        totals=totals,
        notes=JOINT_NOTES,
        sign_off=JOINT_SIGNERS,
        is_landscape=True,
    )
