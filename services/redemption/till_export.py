"""Reading a merchant's till export of voucher transactions (CSV or XLSX).

Format: the first row is a header and every later row is one voucher transaction.
CSV files are UTF-8 (a byte-order mark is allowed) and comma-separated. XLSX files
are read from their first worksheet. Header names are case-insensitive and may be
English or Chinese:

| column | Chinese header | content |
|---|---|---|
| ``serial`` | 券号 | the voucher's 18-digit serial, spaces and dashes allowed |
| ``till_transaction_id`` | 交易号 | the till's transaction id |
| ``time`` | 交易时间 | ISO 8601; without an offset it is Asia/Shanghai local time |
| ``total_fen`` | 金额（分） | the transaction total as an integer number of fen |
| ``items`` | 商品行数 | optional: the number of statement lines |
"""

import csv
import io
from datetime import datetime
from pathlib import Path

from aixin.clock import CAMPAIGN_TZ
from aixin.errors import InvalidInput
from aixin.vouchers import normalise_serial
from aixin.xlsx_guard import open_workbook

MAX_ROWS = 200_000
HEADER_ALIASES = {
    "serial": "serial", "券号": "serial",
    "till_transaction_id": "till_transaction_id", "交易号": "till_transaction_id",
    "time": "time", "交易时间": "time",
    "total_fen": "total_fen", "金额（分）": "total_fen", "金额(分)": "total_fen",
    "items": "items", "商品行数": "items",
}
REQUIRED_COLUMNS = ("serial", "till_transaction_id", "time", "total_fen")


def read_till_export(path: str | Path, filename: str | None = None) -> list[dict]:
    """Return the rows of a till export as dicts; raise InvalidInput naming the cell.

    ``filename`` is the name the merchant uploaded, used in messages; the stored file
    is named by its hash.
    """
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        table = _xlsx_rows(path, filename or path.name)
    elif path.suffix.lower() == ".csv":
        table = _csv_rows(path)
    else:
        raise _invalid(f"文件类型 {path.suffix or '（无扩展名）'} 不受支持，请上传 CSV 或 XLSX")
    try:
        header = next(table)
    except StopIteration:
        raise _invalid("文件没有表头行") from None
    columns = _columns(header)
    rows = []
    for row_no, cells in enumerate(table, start=2):
        if all(cell in (None, "") for cell in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise _invalid(f"超过 {MAX_ROWS} 行，请按时段拆分后分别上传")
        rows.append(_parse_row(row_no, columns, cells))
    return rows


def _csv_rows(path: Path):
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise _invalid("CSV 文件不是 UTF-8 编码，请另存为 UTF-8 后重新上传") from None
    yield from csv.reader(io.StringIO(text))


def _xlsx_rows(path: Path, filename: str):
    workbook = open_workbook(path, filename)
    try:
        for cells in workbook.worksheets[0].iter_rows(values_only=True):
            yield list(cells)
    finally:
        workbook.close()


def _columns(header) -> dict:
    columns = {}
    for index, name in enumerate(header):
        column = HEADER_ALIASES.get(str(name or "").strip().lower())
        if column:
            columns[column] = index
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise _invalid(f"缺少列 {', '.join(missing)}（表头须含 "
                       f"{', '.join(REQUIRED_COLUMNS)}）")
    return columns


def _parse_row(row_no: int, columns: dict, cells) -> dict:
    def cell(name):
        index = columns.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    serial = normalise_serial(str(cell("serial") or "").strip())
    transaction = str(cell("till_transaction_id") or "").strip()
    if not serial:
        raise _invalid(f"第 {row_no} 行缺少券号")
    if not transaction:
        raise _invalid(f"第 {row_no} 行缺少交易号")
    items = cell("items")
    return {
        "row_no": row_no,
        "serial": serial,
        "till_transaction_id": transaction,
        "time": _time(row_no, cell("time")).isoformat(),
        "total_fen": _integer(row_no, "total_fen", cell("total_fen")),
        "items": None if items in (None, "") else _integer(row_no, "items", items),
    }


def _time(row_no: int, value) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value or "").strip())
        except ValueError:
            raise _invalid(f"第 {row_no} 行交易时间 {value!r} 无效，"
                           "请使用 2023-01-20 10:30:00 这样的格式") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CAMPAIGN_TZ)
    return moment.astimezone(CAMPAIGN_TZ)


def _integer(row_no: int, column: str, value) -> int:
    if isinstance(value, bool):
        value = None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value if value is not None else "").strip()
    if not text.isascii() or not text.isdigit():
        raise _invalid(f"第 {row_no} 行 {column} 的值 {value!r} 应为非负整数"
                       "（金额单位：分）")
    return int(text)


def _invalid(problem: str) -> InvalidInput:
    return InvalidInput("invalid_statement_file", f"交易流水文件无效：{problem}。",
                        problem=problem)
