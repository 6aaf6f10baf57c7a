"""Reading death registrations: files of ID numbers with their dates of death.

A CSV (UTF-8, UTF-8 with BOM or GB18030) or XLSX file whose header row, within its
first rows, names an ID-number column and a date-of-death column. A row whose ID
number or date cannot be read is returned as a rejection with a Chinese message.
"""

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from aixin.errors import InvalidInput
from aixin.xlsx_guard import open_workbook
from services.roster.domain.idnumber import (
    classify_id,
    looks_like_spreadsheet_number,
    mask_id,
    normalize_id_text,
)

ID_HEADERS = {"身份证号码", "身份证号", "公民身份号码", "公民身份证号码", "证件号码",
              "身份证件号码", "身份证"}
DATE_HEADERS = {"死亡日期", "死亡时间", "死亡日期时间", "死亡登记日期"}
HEADER_SEARCH_ROWS = 20
_DATE = re.compile(r"(\d{4})\D{0,2}?(\d{1,2})\D{0,2}?(\d{1,2})\D{0,3}")


@dataclass(frozen=True)
class DeathRecord:
    file: str
    row: int
    id_number: str | None  # normalised, valid 18 characters; None when rejected
    died_on: date | None
    rejection: dict | None = None  # {column, value, reason, message}


def read_death_file(path: str, filename: str) -> list[DeathRecord]:
    if Path(filename).suffix.lower() == ".xlsx":
        rows = _xlsx_rows(path, filename)
    else:
        rows = _csv_rows(path)
    return list(_records(rows, filename))


def _csv_rows(path: str):
    raw = Path(path).read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    return list(csv.reader(io.StringIO(text)))


def _xlsx_rows(path: str, filename: str):
    workbook = open_workbook(path, filename)
    try:
        return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


def _header_key(cell) -> str:
    text = unicodedata.normalize("NFKC", str(cell or ""))
    return re.sub(r"[\s()（）:：*]", "", text)


def _records(rows, filename: str):
    id_column = date_column = None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        keys = [_header_key(cell) for cell in row]
        ids = [i for i, key in enumerate(keys) if key in ID_HEADERS]
        dates = [i for i, key in enumerate(keys) if key in DATE_HEADERS]
        if ids and dates:
            id_column, date_column, header_index = ids[0], dates[0], index
            id_header, date_header = row[ids[0]], row[dates[0]]
            break
    if id_column is None:
        raise InvalidInput(
            "death_file_header_not_found",
            f"文件 {filename} 的前 {HEADER_SEARCH_ROWS} 行中找不到“身份证号码”和"
            "“死亡日期”两列：请检查表头后重新上传。", filename=filename)
    for index in range(header_index + 1, len(rows)):
        row = rows[index]
        if not any(str(cell or "").strip() for cell in row):
            continue
        raw_id = row[id_column] if id_column < len(row) else None
        raw_date = row[date_column] if date_column < len(row) else None
        yield _record(filename, index + 1, raw_id, raw_date, id_header, date_header)


def _record(filename, row_number, raw_id, raw_date, id_header, date_header):
    reason, id18 = classify_id(normalize_id_text(raw_id))
    if reason is None and looks_like_spreadsheet_number(raw_id):
        reason = "invalid_id_format"
    if reason is not None:
        return DeathRecord(filename, row_number, None, None, {
            "column": str(id_header), "value": mask_id(id18), "reason": reason,
            "message": f"身份证号码“{mask_id(id18)}”无效（{reason}）：请对照死亡登记"
                       "原件更正后重新上传。"})
    died_on = parse_date(raw_date)
    if died_on is None:
        value = str(raw_date or "")[:40]
        return DeathRecord(filename, row_number, None, None, {
            "column": str(date_header), "value": value,
            "reason": "invalid_death_date",
            "message": f"死亡日期“{value}”无法识别：请写成 2022-12-05 这样的日期。"})
    return DeathRecord(filename, row_number, id18, died_on)


def parse_date(raw) -> date | None:
    """Read a date cell: a date, or a text such as 2022-12-05, 2022/12/5, 2022年12月5日."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = unicodedata.normalize("NFKC", str(raw or "")).strip()
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None
