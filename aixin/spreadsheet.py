"""XLSX tables with safe cells, for every document a service offers as a download.

Rows are streamed through openpyxl's write-only mode, so a sheet of a million rows
never sits in memory as cells. Every text cell is neutralised against formula
injection (CSV/XLSX injection): a text that a spreadsheet program could read as a
formula gets a leading single quote and is stored as text.
"""

import io
import itertools
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from aixin.clock import as_local
from aixin.money import format_yuan

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Column kinds. MONEY cells take int fen and show yuan. PERCENT cells take a ratio,
# so 0.5 shows as 50.00%. MASKED_ID cells reject any value without a '*'.
TEXT = "text"
MONEY = "money"
INTEGER = "integer"
PERCENT = "percent"
DATE = "date"
DATETIME = "datetime"
MASKED_ID = "masked_id"
KINDS = (TEXT, MONEY, INTEGER, PERCENT, DATE, DATETIME, MASKED_ID)

NUMBER_FORMATS = {
    MONEY: "#,##0.00",
    INTEGER: "#,##0",
    PERCENT: "0.00%",
    DATE: "yyyy-mm-dd",
    DATETIME: "yyyy-mm-dd hh:mm:ss",
}
DEFAULT_WIDTHS = {MONEY: 14, INTEGER: 10, PERCENT: 10, DATE: 12, DATETIME: 20}
TOTALS_LABEL = "合计"
SIGN_OFF_TEMPLATE = "{party}（签字/盖章）：____________________    日期：______年____月____日"

# Widths are estimated from the header and this many first rows only, because a
# streamed sheet must fix its column widths before the first row is written.
WIDTH_SAMPLE_ROWS = 200
MAX_WIDTH = 60

_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")


@dataclass(frozen=True)
class Column:
    """One table column: its Chinese header, the kind of its values and a width.

    ``width`` is in characters. None estimates it from the header and first rows.
    """

    header: str
    kind: str = TEXT
    width: float | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}: use one of {KINDS}")


@dataclass
class Sheet:
    """One worksheet: a title row, subtitle rows, header row, rows and footer.

    ``rows`` may be any iterable, read once. ``totals`` is a row written after the
    data in bold. Pass True to sum every MONEY and INTEGER column (the first column
    then shows 合计). ``sign_off`` names the parties that sign below the table.
    """

    name: str
    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    subtitle: str | None = None  # one row per line
    totals: bool | Sequence[Any] | None = None
    sign_off: Sequence[str] = field(default_factory=tuple)
    notes: Sequence[str] = field(default_factory=tuple)


def neutralise_text(text: str) -> str:
    """Prefix a quote to text that a spreadsheet could run as a formula."""
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def money_value(fen: int) -> Decimal:
    """Convert fen to an exact Decimal of yuan, written to the file as 300.00."""
    return Decimal(format_yuan(fen))


def sign_off_line(party: str) -> str:
    """Return the line where ``party`` signs and dates a document."""
    return SIGN_OFF_TEMPLATE.format(party=party)


def build_table(
    title: str, columns: Sequence[Column], rows: Iterable, **options
) -> bytes:
    """Render one table as XLSX bytes. ``options`` are the other Sheet fields."""
    sheet_name = options.pop("sheet_name", "Sheet1")
    return build_workbook([Sheet(sheet_name, title, columns, rows, **options)])


def build_workbook(sheets: Sequence[Sheet]) -> bytes:
    """Render sheets, in order, into one XLSX file and return its bytes."""
    workbook = Workbook(write_only=True)
    try:
        for sheet in sheets:
            _write_sheet(workbook, sheet)
    except Exception:
        # Close the half-written sheets so their temporary files are removed.
        for worksheet in workbook.worksheets:
            if not worksheet.closed:
                worksheet.close()
        raise
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_sheet(workbook: Workbook, sheet: Sheet) -> None:
    worksheet = workbook.create_sheet(title=sheet.name)
    columns = list(sheet.columns)
    iterator = iter(sheet.rows)
    sample = list(itertools.islice(iterator, WIDTH_SAMPLE_ROWS))
    rows = itertools.chain(sample, iterator)
    for row in sample:
        _check_width(row, columns)
    _set_widths(worksheet, columns, sample)

    # The sheet view is written with the first row, so panes are fixed before it.
    header_row = 2 + len(_subtitle_lines(sheet))
    worksheet.freeze_panes = f"A{header_row + 1}"
    _write_title(worksheet, sheet, len(columns))
    worksheet.print_title_rows = f"{header_row}:{header_row}"
    worksheet.append([_header_cell(worksheet, column.header) for column in columns])

    sums = [0] * len(columns)
    for row in rows:
        _check_width(row, columns)
        worksheet.append(_data_cells(worksheet, columns, row))
        add_to_sums(sums, columns, row)

    if sheet.totals is True:
        _append_totals(worksheet, columns, totals_row(columns, sums))
    elif sheet.totals:
        _append_totals(worksheet, columns, sheet.totals)
    _append_footer(worksheet, sheet)


def _write_title(worksheet, sheet: Sheet, width: int) -> None:
    """Write the title and subtitle rows, each merged across the table."""
    lines = [(sheet.title, Font(bold=True, size=14))]
    lines += [(line, Font(size=11)) for line in _subtitle_lines(sheet)]
    for index, (text, font) in enumerate(lines, start=1):
        cell = WriteOnlyCell(worksheet, neutralise_text(text))
        cell.font = font
        cell.alignment = Alignment(horizontal="center", vertical="center")
        worksheet.append([cell])
        if width > 1:
            worksheet.merged_cells.add(f"A{index}:{get_column_letter(width)}{index}")


def _subtitle_lines(sheet: Sheet) -> list:
    return sheet.subtitle.split("\n") if sheet.subtitle else []


def _header_cell(worksheet, header: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(worksheet, neutralise_text(header))
    cell.font = Font(bold=True)
    cell.fill = _HEADER_FILL
    cell.border = _BORDER
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    return cell


def _data_cells(worksheet, columns: Sequence[Column], row, bold=False) -> list:
    cells = []
    for column, value in zip(columns, row):
        cell = WriteOnlyCell(worksheet, cell_value(column.kind, value))
        if column.kind in NUMBER_FORMATS:
            cell.number_format = NUMBER_FORMATS[column.kind]
        cell.border = _BORDER
        if bold:
            cell.font = Font(bold=True)
        cells.append(cell)
    return cells


def cell_value(kind: str, value: Any) -> Any:
    """Convert one plain value to what an XLSX cell of ``kind`` stores.

    None stays an empty cell. A text is neutralised whatever the column kind, so a
    label such as 合计 can sit in a number column. Raises ValueError for a MASKED_ID
    value without a '*', so a full ID number never reaches a document.
    """
    if value is None:
        return None
    if kind == MASKED_ID:
        check_masked(value)
    if isinstance(value, str):
        return neutralise_text(value)
    if kind == MONEY:
        return money_value(value)
    if kind == DATETIME and isinstance(value, datetime):
        # Excel has no time zones: store campaign local time without tzinfo.
        return as_local(value).replace(tzinfo=None)
    if kind == TEXT:
        return neutralise_text(str(value))
    return value


def check_masked(value: Any) -> None:
    """Raise ValueError unless ``value`` is a masked text (contains a '*')."""
    if not isinstance(value, str) or "*" not in value:
        raise ValueError("an unmasked ID number must not appear in a document")


def _check_width(row, columns) -> None:
    if len(row) != len(columns):
        raise ValueError(
            f"row has {len(row)} values for {len(columns)} columns: {row!r}"
        )


def add_to_sums(sums: list, columns: Sequence[Column], row) -> None:
    """Add the int values of the MONEY and INTEGER columns of ``row`` to ``sums``."""
    for index, (column, value) in enumerate(zip(columns, row)):
        if column.kind in (MONEY, INTEGER) and isinstance(value, int):
            sums[index] += value


def totals_row(columns: Sequence[Column], sums: list) -> list:
    """Return the 合计 row: sums under MONEY and INTEGER columns, blanks elsewhere."""
    row = [
        sums[index] if column.kind in (MONEY, INTEGER) else None
        for index, column in enumerate(columns)
    ]
    row[0] = TOTALS_LABEL
    return row


def _append_totals(worksheet, columns, totals: Sequence[Any]) -> None:
    _check_width(totals, columns)
    worksheet.append(_data_cells(worksheet, columns, totals, bold=True))


def _append_footer(worksheet, sheet: Sheet) -> None:
    if sheet.notes:
        worksheet.append([])
    for note in sheet.notes:
        worksheet.append([neutralise_text(note)])
    for party in sheet.sign_off:
        worksheet.append([])
        worksheet.append([neutralise_text(sign_off_line(party))])


def _set_widths(worksheet, columns: Sequence[Column], sample: list) -> None:
    for index, column in enumerate(columns, start=1):
        width = column.width or _estimate_width(column, index - 1, sample)
        worksheet.column_dimensions[get_column_letter(index)].width = width


def _estimate_width(column: Column, index: int, sample: list) -> float:
    texts = [column.header] + [_display_text(column.kind, row[index]) for row in sample]
    widest = max(display_width(text) for text in texts)
    return min(max(widest + 2, DEFAULT_WIDTHS.get(column.kind, 8)), MAX_WIDTH)


def _display_text(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == MONEY and isinstance(value, int):
        return format_yuan(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def display_width(text: str) -> int:
    """Count columns a text takes in a fixed-width view: CJK characters take two."""
    return sum(2 if ord(char) > 0x2E80 else 1 for char in text)
