"""Roster documents: the import report and the public notice (公示) list.

Both renderers are pure functions from the plain data below to file bytes. Money
is int fen and dates are ``datetime.date`` or aware ``datetime``.
"""

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable, Mapping, Sequence

from aixin import pdf
from aixin.personal import mask_id_numbers
from aixin.spreadsheet import (
    DATETIME,
    INTEGER,
    MASKED_ID,
    MONEY,
    TEXT,
    Column,
    Sheet,
    build_workbook,
)

CATEGORY_NAMES = {
    "urban_dibao": "城市低保",
    "rural_dibao": "农村低保",
    "tekun": "特困",
}
# Characters that separate the parts of a name (买买提·艾力), which stay visible.
NAME_SEPARATORS = frozenset("\u00b7\u30fb\u2022\u2027\u2219\uff65\uff0e. \u3000")


def mask_name(name: str) -> str:
    """Mask a name for public display: 张三明 -> 张*明, 张三 -> 张*.

    The first and last characters stay, every other character becomes '*', and
    middle dots stay in place (买买提·艾力 -> 买**·*力). A one-character name is
    masked entirely. A combining mark or variation selector, as used for rare
    characters, stays with the character before it. Raises ValueError for a name
    without any character.
    """
    letters = _split_characters(name.strip())
    positions = [i for i, char in enumerate(letters) if char not in NAME_SEPARATORS]
    if not positions:
        raise ValueError(f"invalid name {name!r}: it has no character to show")
    if len(positions) == 1:
        keep = set()
    elif len(positions) == 2:
        keep = {positions[0]}
    else:
        keep = {positions[0], positions[-1]}
    masked = [
        char if i in keep or char in NAME_SEPARATORS else "*"
        for i, char in enumerate(letters)
    ]
    return "".join(masked)


def _split_characters(text: str) -> list[str]:
    """Split text into characters, each with its combining marks and selectors."""
    characters: list[str] = []
    for char in text:
        if characters and _is_attached(char):
            characters[-1] += char
        else:
            characters.append(char)
    return characters


def _is_attached(char: str) -> bool:
    code = ord(char)
    if 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF:
        return True
    return unicodedata.category(char) in ("Mn", "Me")


@dataclass(frozen=True)
class RejectedRow:
    """One rejected cell of an uploaded file.

    ``row_number`` is the row a clerk sees in the spreadsheet (1 is the first row
    of the file). ``value`` is the cell text, in which the report masks any ID number.
    ``message`` explains to the clerk in Chinese how to fix the row.
    """

    file_name: str
    row_number: int
    column: str
    value: str | None
    reason_code: str
    message: str


@dataclass(frozen=True)
class ImportSummary:
    """The figures of one import into a roster snapshot.

    ``reason_counts`` maps each reason code to its number of rejected rows.
    """

    snapshot_month: str
    file_names: Sequence[str]
    imported_at: datetime
    rows_read: int
    accepted_rows: int
    rejected_rows: int
    merged_duplicates: int
    beneficiaries: int
    reason_counts: Mapping[str, int] = field(default_factory=dict)


REJECTED_COLUMNS = (
    Column("文件", width=28),
    Column("行号", INTEGER, 8),
    Column("列", width=14),
    Column("值（已脱敏）", width=24),
    Column("原因代码", width=24),
    Column("说明", width=60),
)
SUMMARY_COLUMNS = (Column("项目", width=24), Column("数值", INTEGER, 40))
REASON_COLUMNS = (Column("原因代码", width=28), Column("行数", INTEGER, 10))


def render_import_report(
    summary: ImportSummary, rejected: Iterable[RejectedRow]
) -> bytes:
    """Render the import report XLSX: a summary sheet and every rejected row.

    ``rejected`` is read once, so a large import can stream it. Raises ValueError
    when the summary figures contradict each other, because such a report would
    hide a lost row.
    """
    _check_summary(summary)
    sheets = [
        Sheet(
            name="汇总",
            title=f"花名册导入报告（{summary.snapshot_month}）",
            columns=SUMMARY_COLUMNS,
            rows=_summary_rows(summary),
            notes=("请按“被拒绝的行”中的说明修改原文件中对应的行，然后重新上传。",),
        ),
        Sheet(
            name="原因统计",
            title="被拒绝行的原因统计",
            columns=REASON_COLUMNS,
            rows=sorted(summary.reason_counts.items()),
            totals=True,
        ),
        Sheet(
            name="被拒绝的行",
            title="被拒绝的行",
            columns=REJECTED_COLUMNS,
            rows=(_rejected_row(row) for row in rejected),
        ),
    ]
    return build_workbook(sheets)


def _check_summary(summary: ImportSummary) -> None:
    read = summary.accepted_rows + summary.rejected_rows
    if summary.rows_read != read:
        raise ValueError(
            f"invalid import summary: rows_read {summary.rows_read} != accepted"
            f" {summary.accepted_rows} + rejected {summary.rejected_rows}"
        )
    persons = summary.accepted_rows - summary.merged_duplicates
    if summary.beneficiaries != persons:
        raise ValueError(
            f"invalid import summary: beneficiaries {summary.beneficiaries} !="
            f" accepted {summary.accepted_rows} - merged {summary.merged_duplicates}"
        )


def _summary_rows(summary: ImportSummary) -> list:
    imported_at = pdf.cell_text(DATETIME, summary.imported_at)
    return [
        ("快照月份", summary.snapshot_month),
        ("导入文件", "、".join(summary.file_names)),
        ("导入时间", imported_at),
        ("读取行数", summary.rows_read),
        ("接受行数", summary.accepted_rows),
        ("拒绝行数", summary.rejected_rows),
        ("合并的重复行数", summary.merged_duplicates),
        ("发放对象人数", summary.beneficiaries),
    ]


def _rejected_row(row: RejectedRow) -> tuple:
    value = mask_id_numbers(row.value) if row.value is not None else None
    return (
        row.file_name,
        row.row_number,
        row.column,
        value,
        row.reason_code,
        row.message,
    )


@dataclass(frozen=True)
class NoticeEntry:
    """One beneficiary on the public notice. The renderer masks the name.

    ``category`` is urban_dibao, rural_dibao or tekun.
    """

    name: str
    masked_id_number: str
    village: str
    category: str
    amount_fen: int


@dataclass(frozen=True)
class PublicNotice:
    """The public notice of one township, or of one village when ``village`` is set.

    ``contact_phone`` is where objections go during the notice period.
    """

    campaign_name: str
    township_name: str
    entries: Sequence[NoticeEntry]
    notice_from: date
    notice_until: date
    published_on: date
    contact_phone: str | None = None
    village: str | None = None


NOTICE_COLUMNS = (
    Column("序号", INTEGER, 7),
    Column("村（社区）", TEXT, 18),
    Column("姓名", TEXT, 10),
    Column("身份证号", MASKED_ID, 22),
    Column("保障类别", TEXT, 10),
    Column("金额（元）", MONEY, 12),
)


def _notice_entries(notice: PublicNotice) -> list[NoticeEntry]:
    """Return the entries to list, sorted by village (a stable sort).

    A notice for one village keeps only that village's entries.
    """
    entries = list(notice.entries)
    if notice.village is not None:
        entries = [entry for entry in entries if entry.village == notice.village]
    return sorted(entries, key=lambda entry: entry.village)


def _notice_rows(entries: Sequence[NoticeEntry]) -> list:
    rows = []
    for number, entry in enumerate(entries, start=1):
        if entry.category not in CATEGORY_NAMES:
            known = ", ".join(CATEGORY_NAMES)
            raise ValueError(f"unknown category {entry.category!r}: use one of {known}")
        rows.append((
            number,
            entry.village,
            mask_name(entry.name),
            entry.masked_id_number,
            CATEGORY_NAMES[entry.category],
            entry.amount_fen,
        ))
    return rows


def _notice_totals(entries: Sequence[NoticeEntry]) -> tuple:
    total = sum(entry.amount_fen for entry in entries)
    return ("合计", f"{len(entries)} 人", None, None, None, total)


def _notice_title(notice: PublicNotice) -> str:
    return f"{notice.campaign_name}发放对象公示名单"


def _notice_subtitle(notice: PublicNotice) -> str:
    place = f"镇（街道）：{notice.township_name}"
    if notice.village:
        place += f"    村（社区）：{notice.village}"
    period = f"公示期：{_chinese_date(notice.notice_from)} 至 "
    return place + "\n" + period + _chinese_date(notice.notice_until)


def _notice_notes(notice: PublicNotice) -> tuple:
    objection = "公示期内如有异议，请向镇（街道）民政部门反映"
    if notice.contact_phone:
        objection += f"，电话：{notice.contact_phone}"
    return (
        objection + "。",
        "为保护个人信息，姓名和身份证号已部分隐去。",
        f"{notice.township_name}    {_chinese_date(notice.published_on)}",
    )


def _chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def render_notice_xlsx(notice: PublicNotice) -> bytes:
    """Render the public notice list as XLSX, names and ID numbers masked."""
    entries = _notice_entries(notice)
    sheet = Sheet(
        name="公示名单",
        title=_notice_title(notice),
        subtitle=_notice_subtitle(notice),
        columns=NOTICE_COLUMNS,
        rows=_notice_rows(entries),
        totals=_notice_totals(entries),
        notes=_notice_notes(notice),
    )
    return build_workbook([sheet])


def render_notice_pdf(notice: PublicNotice) -> bytes:
    """Render the public notice list as PDF, names and ID numbers masked."""
    entries = _notice_entries(notice)
    return pdf.build_table_pdf(
        _notice_title(notice),
        NOTICE_COLUMNS,
        _notice_rows(entries),
        subtitle=_notice_subtitle(notice),
        totals=_notice_totals(entries),
        notes=_notice_notes(notice),
    )
