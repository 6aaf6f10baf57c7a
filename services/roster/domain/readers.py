"""Read roster exports (CSV and XLSX) row by row, as a clerk sees them.

Exports from civil-affairs systems put title rows above the header, name the same
column differently (身份证号码 / 公民身份号码, 乡镇（街道）/ 所属乡镇), leave blank
rows between pages and end with a totals row (合计). The readers find the header
row by its column names, skip blank, repeated-header and totals rows, and yield one
:class:`RosterRow` per data row with the row number shown in the spreadsheet.

Files are streamed: a generator holds one row at a time, never the whole file.
Cell values are passed on unchanged (``str`` from CSV; ``str``, ``int``, ``float``,
``datetime`` or ``None`` from XLSX), so the importer can tell an ID number stored as
a spreadsheet number from one stored as text.
"""

import codecs
import csv
import io
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from aixin.errors import InvalidInput
from aixin.xlsx_guard import open_workbook

ID_NUMBER = "id_number"
NAME = "name"
TOWNSHIP = "township"
TOWNSHIP_CODE = "township_code"
VILLAGE = "village"
CATEGORY = "category"
SUPPORT_MODE = "support_mode"
INSTITUTION = "institution"

# Header names seen in exports, compared after _header_key (no brackets, spaces,
# required-field stars; full-width forms folded to ASCII).
_HEADER_ALIASES = {
    ID_NUMBER: (
        "身份证号码",
        "身份证号",
        "公民身份号码",
        "公民身份证号码",
        "身份证件号码",
        "证件号码",
        "身份号码",
        "身份证",
    ),
    NAME: ("姓名", "对象姓名", "保障对象姓名", "成员姓名", "供养对象姓名"),
    TOWNSHIP: (
        "乡镇街道",
        "所属乡镇",
        "所属乡镇街道",
        "所在乡镇",
        "所在乡镇街道",
        "乡镇",
        "街道乡镇",
        "乡镇办",
        "乡镇办事处",
    ),
    TOWNSHIP_CODE: ("乡镇代码", "乡镇街道代码", "乡镇区划代码", "统计用区划代码"),
    VILLAGE: (
        "村社区",
        "村居",
        "所在村居",
        "所在村社区",
        "所属村社区",
        "所属村居",
        "村",
        "社区",
        "村居委会",
        "村委会社区",
    ),
    CATEGORY: ("保障类别", "救助类别", "人员类别", "对象类别", "保障类型", "类别"),
    SUPPORT_MODE: ("供养方式", "供养形式"),
    INSTITUTION: (
        "供养机构",
        "机构名称",
        "托养机构",
        "集中供养机构",
        "供养机构名称",
        "供养单位",
    ),
}
_DROPPED_IN_HEADERS = re.compile(r"[\s()\[\]【】/、*:：]")
_TOTALS_PREFIXES = ("合计", "总计", "小计")
# How far below the top a header row may sit (title rows, notes, blank rows).
_HEADER_SEARCH_ROWS = 30
_SNIFF_BYTES = 64 * 1024
_ASCII_DIGITS = frozenset("0123456789")


class RosterFileError(InvalidInput):
    """A file that cannot be read as a roster at all (not a single bad row)."""


def _header_key(text) -> str:
    if text is None:
        return ""
    folded = unicodedata.normalize("NFKC", str(text))
    return _DROPPED_IN_HEADERS.sub("", folded)


_FIELD_BY_HEADER = {
    _header_key(alias): field
    for field, aliases in _HEADER_ALIASES.items()
    for alias in aliases
}


@dataclass(frozen=True, slots=True, eq=False)
class Layout:
    """Where the fields of one file (or sheet) are: shared by all of its rows."""

    file: str
    sheet: str | None
    header_row: int
    columns: dict  # field -> 0-based column index
    headers: dict  # field -> header text exactly as written in the file

    def header(self, field: str) -> str:
        """The column's header as written, or its usual name when the file has none."""
        return self.headers.get(field) or _HEADER_ALIASES[field][0]


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One data row: its raw cell values by field and where a clerk finds it."""

    layout: Layout
    row: int  # 1-based, counting title and header rows, as in the spreadsheet
    values: dict  # field -> raw cell value

    @property
    def file(self) -> str:
        return self.layout.file

    @property
    def sheet(self) -> str | None:
        return self.layout.sheet

    def get(self, field: str):
        return self.values.get(field)


def read_roster(source, name: str | None = None) -> Iterator[RosterRow]:
    """Yield the data rows of a CSV or XLSX roster, one at a time.

    ``source`` is a path or a binary file object; ``name`` is the file name shown
    to the clerk (default: the path's file name).
    """
    name = name or _source_name(source)
    kind = _file_kind(source, name)
    if kind == "csv":
        return read_csv(source, name)
    return read_xlsx(source, name)


def read_csv(source, name: str | None = None) -> Iterator[RosterRow]:
    """Yield the data rows of a CSV roster (UTF-8 with or without BOM, or GB18030)."""
    name = name or _source_name(source)
    with _open_binary(source) as raw:
        encoding = _detect_encoding(raw)
        text = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")
        try:
            yield from _rows_of(csv.reader(text), name, sheet=None)
        except UnicodeDecodeError as error:
            raise RosterFileError(
                "roster_encoding_invalid",
                f"文件“{name}”的编码前后不一致（判定为 {encoding}，"
                "读到中途出现无法识别的字符）：请用表格软件另存为"
                "“CSV UTF-8”后重新导入。",
                file=name,
            ) from error
        finally:
            text.detach()


def read_xlsx(source, name: str | None = None) -> Iterator[RosterRow]:
    """Yield the data rows of every sheet of an XLSX roster that has a header row."""
    name = name or _source_name(source)
    try:
        workbook = open_workbook(source, name)
    except InvalidInput as error:
        raise RosterFileError(error.code, error.message, file=name) from None
    try:
        found = False
        for sheet in workbook.worksheets:
            # Exporters often write a wrong <dimension>; without this reset a
            # read-only sheet stops at the declared last row and drops people.
            sheet.reset_dimensions()
            rows = sheet.iter_rows(values_only=True)
            try:
                layout, header_keys = _find_header(rows, name, sheet.title)
            except RosterFileError as error:
                if error.code == "roster_header_not_found":
                    continue  # a notes or lookup sheet, not a list of persons
                raise
            found = True
            yield from _data_rows(rows, layout, header_keys)
        if not found:
            raise _header_not_found(name)
    finally:
        workbook.close()


def _rows_of(rows, name, sheet) -> Iterator[RosterRow]:
    rows = iter(rows)
    layout, header_keys = _find_header(rows, name, sheet)
    yield from _data_rows(rows, layout, header_keys)


def _data_rows(rows, layout: Layout, header_keys: tuple) -> Iterator[RosterRow]:
    """Yield the rows below the header; ``rows`` is positioned after it."""
    row_number = layout.header_row
    for cells in rows:
        row_number += 1
        if _is_blank(cells) or _is_totals(cells):
            continue
        if _repeats_header(cells, layout, header_keys):
            continue
        values = {
            field: cells[index] if index < len(cells) else None
            for field, index in layout.columns.items()
        }
        yield RosterRow(layout, row_number, values)


def _repeats_header(cells, layout: Layout, header_keys: tuple) -> bool:
    """Tell a header repeated on every printed page from a data row (cheaply)."""
    index = layout.columns[ID_NUMBER]
    if index >= len(cells):
        return False
    cell = cells[index]
    if type(cell) is str and cell[:1] in _ASCII_DIGITS:
        return False  # an ID number: every ID header is written in Chinese
    if _header_key(cell) != header_keys[index]:
        return False
    return _keys(cells) == header_keys


def _find_header(rows, name, sheet) -> tuple[Layout, tuple]:
    for row_number, cells in enumerate(rows, start=1):
        if row_number > _HEADER_SEARCH_ROWS:
            break
        columns, headers = {}, {}
        for index, cell in enumerate(cells):
            field = _FIELD_BY_HEADER.get(_header_key(cell))
            if field and field not in columns:
                columns[field] = index
                headers[field] = str(cell).strip()
        if ID_NUMBER in columns and NAME in columns and len(columns) >= 3:
            _require_columns(columns, name)
            layout = Layout(name, sheet, row_number, columns, headers)
            return layout, _keys(cells)
    raise _header_not_found(name)


def _require_columns(columns, name):
    missing = []
    if TOWNSHIP not in columns:
        missing.append("乡镇（街道）")
    if CATEGORY not in columns and SUPPORT_MODE not in columns:
        missing.append("保障类别（特困人员名册可只有“供养方式”）")
    if missing:
        raise RosterFileError(
            "roster_column_missing",
            f"文件“{name}”缺少必需的列：{'、'.join(missing)}。请补上这些列后重新导入。",
            file=name,
        )


def _header_not_found(name) -> RosterFileError:
    return RosterFileError(
        "roster_header_not_found",
        f"文件“{name}”中找不到表头行（应含“姓名”“身份证号码”“乡镇（街道）”等列）："
        "请确认导入的是低保或特困人员花名册，表头位于前30行内。",
        file=name,
    )


def _keys(cells) -> tuple:
    return tuple(_header_key(cell) for cell in cells)


def _is_blank(cells) -> bool:
    if type(cells) is list:  # a CSV row, its cells all text: check them at once
        try:
            return not "".join(cells).strip()
        except TypeError:
            pass
    return all(cell is None or str(cell).strip() == "" for cell in cells)


def _is_totals(cells) -> bool:
    for cell in cells:
        if cell is None or str(cell).strip() == "":
            continue
        text = "".join(str(cell).split())
        return text.startswith(_TOTALS_PREFIXES)
    return False


def _detect_encoding(raw: BinaryIO) -> str:
    """Decide the encoding once, from the first bytes, then rewind."""
    head = raw.read(_SNIFF_BYTES)
    raw.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        # final=False: a character cut at the end of the sample is not an error.
        codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


class _open_binary:
    """Open a path, or borrow an open binary file without closing it."""

    def __init__(self, source):
        self._owned = isinstance(source, (str, os.PathLike))
        self._file = open(source, "rb") if self._owned else source

    def __enter__(self) -> BinaryIO:
        return self._file

    def __exit__(self, *exc_info):
        if self._owned:
            self._file.close()


def _source_name(source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    return Path(getattr(source, "name", "") or "upload").name


def _file_kind(source, name) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    with _open_binary(source) as raw:
        magic = raw.read(4)
        raw.seek(0)
    if magic == b"PK\x03\x04":
        return "xlsx"
    if suffix == ".xls" or magic == b"\xd0\xcf\x11\xe0":
        raise RosterFileError(
            "roster_file_unsupported",
            f"文件“{name}”是旧版 Excel（.xls）格式：请另存为 .xlsx 或 CSV 后重新导入。",
            file=name,
        )
    return "csv"
