"""Itemised statements (流水清单) and the checks a redemption's statement must pass.

A line's quantity is a count of pieces (an int) or, for weighed goods, a decimal
with at most three places, such as ``"1.235"`` kilograms. Its amount must equal
quantity times unit price rounded half up to the fen. Discounts and returns are
not separate lines: the till prints the price paid, so every amount is positive.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from services.redemption.domain.reasons import rejection

MAX_QUANTITY_PLACES = 3
# Limits no supermarket purchase reaches; they keep absurd values (1e30 fen, a
# quantity of 1e9999) from overflowing the arithmetic or a BIGINT column.
MAX_LINES = 200
MAX_FEN = 100_000_000  # 1,000,000 yuan
MAX_QUANTITY = Decimal(100_000)

# An example of the campaign setting: categories no voucher may pay for.
DEFAULT_CASH_EQUIVALENT_CATEGORIES = (
    "cash",
    "prepaid_card",
    "gift_card",
    "phone_topup",
    "account_topup",
    "lottery",
)

_FIELDS = ("name", "category", "quantity", "unit_price_fen", "amount_fen")


@dataclass(frozen=True)
class StatementLine:
    """One item of a statement; money in int fen."""

    name: str
    category: str
    quantity: Decimal
    unit_price_fen: int
    amount_fen: int


@dataclass(frozen=True)
class Statement:
    """A statement whose lines and total passed ``validate_statement``."""

    lines: tuple[StatementLine, ...]
    total_fen: int


def line_amount_fen(quantity: Decimal, unit_price_fen: int) -> int:
    """Return quantity times unit price in fen, rounded half up."""
    # NOTE: a till that truncates weighed amounts to the fen instead of rounding
    # half up fails the line check on such lines; no till export was checked.
    exact = quantity * unit_price_fen
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def validate_statement(
    lines: Iterable, total_fen: int, cash_equivalent_categories: Iterable[str]
) -> Statement:
    """Check a statement and return it with typed lines.

    ``lines`` yields StatementLine objects or mappings with the same field names.
    Category codes match case-insensitively. Raises the DomainError of reason
    ``statement_empty``, ``statement_line_invalid``, ``cash_equivalent_item``,
    ``statement_line_mismatch``, ``statement_total_invalid`` or
    ``statement_total_mismatch``, checked in that order, line by line.
    """
    forbidden = {_category_key(code) for code in cash_equivalent_categories}
    checked = []
    for line_no, raw in enumerate(lines, start=1):
        if line_no > MAX_LINES:
            raise _invalid(line_no, f"一张流水清单最多 {MAX_LINES} 行，请拆分或核对")
        line = _typed_line(line_no, raw)
        _check_not_cash(line_no, line, forbidden)
        _check_line_amount(line_no, line)
        checked.append(line)
    if not checked:
        raise rejection("statement_empty")
    _check_total(checked, total_fen)
    return Statement(lines=tuple(checked), total_fen=total_fen)


def _typed_line(line_no: int, raw) -> StatementLine:
    fields = _fields_of(line_no, raw)
    name = fields["name"]
    category = fields["category"]
    if not isinstance(name, str) or not name.strip():
        raise _invalid(line_no, "缺少商品名称")
    if not isinstance(category, str) or not category.strip():
        raise _invalid(line_no, "缺少商品类别")
    return StatementLine(
        name=name.strip(),
        category=category.strip(),
        quantity=_quantity(line_no, fields["quantity"]),
        unit_price_fen=_positive_fen(line_no, "单价", fields["unit_price_fen"]),
        amount_fen=_positive_fen(line_no, "金额", fields["amount_fen"]),
    )


def _fields_of(line_no: int, raw) -> dict:
    if isinstance(raw, StatementLine):
        return {field: getattr(raw, field) for field in _FIELDS}
    if not isinstance(raw, Mapping):
        raise _invalid(line_no, "格式不正确")
    missing = [field for field in _FIELDS if field not in raw]
    if missing:
        raise _invalid(line_no, f"缺少字段 {', '.join(missing)}")
    return {field: raw[field] for field in _FIELDS}


def _quantity(line_no: int, value) -> Decimal:
    if isinstance(value, (bool, float)) or not isinstance(value, (int, str, Decimal)):
        raise _invalid(
            line_no, f"数量 {value!r} 应写为整数或小数文本，例如 2 或 \"1.235\""
        )
    try:
        quantity = Decimal(str(value).strip())
    except InvalidOperation:
        raise _invalid(line_no, f"数量 {value} 不是数字") from None
    if not quantity.is_finite() or quantity <= 0:
        raise _invalid(line_no, f"数量 {value} 应大于0")
    if quantity > MAX_QUANTITY:
        raise _invalid(line_no, f"数量 {value} 超过上限 {MAX_QUANTITY}，请核对")
    if quantity.as_tuple().exponent < -MAX_QUANTITY_PLACES:
        raise _invalid(line_no, f"数量 {value} 最多保留{MAX_QUANTITY_PLACES}位小数")
    return quantity


def _positive_fen(line_no: int, label: str, value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise _invalid(line_no, f"{label} {value!r} 应为大于0的整数（单位：分）")
    if value > MAX_FEN:
        raise _invalid(line_no, f"{label} {value} 分超过上限 {MAX_FEN} 分，请核对")
    return value


def _check_not_cash(line_no: int, line: StatementLine, forbidden: set) -> None:
    if _category_key(line.category) in forbidden:
        raise rejection(
            "cash_equivalent_item",
            line_no=line_no,
            name=line.name,
            category=line.category,
        )


def _check_line_amount(line_no: int, line: StatementLine) -> None:
    expected = line_amount_fen(line.quantity, line.unit_price_fen)
    if expected != line.amount_fen:
        raise rejection(
            "statement_line_mismatch",
            line_no=line_no,
            quantity=str(line.quantity),
            unit_price_fen=line.unit_price_fen,
            expected_fen=expected,
            amount_fen=line.amount_fen,
        )


def _check_total(lines: list[StatementLine], total_fen) -> None:
    if (not isinstance(total_fen, int) or isinstance(total_fen, bool) or total_fen <= 0
            or total_fen > MAX_FEN * MAX_LINES):
        raise rejection("statement_total_invalid", total_fen=total_fen)
    lines_total = sum(line.amount_fen for line in lines)
    if lines_total != total_fen:
        raise rejection(
            "statement_total_mismatch",
            lines_total_fen=lines_total,
            total_fen=total_fen,
        )


def _invalid(line_no: int, problem: str):
    return rejection("statement_line_invalid", line_no=line_no, problem=problem)


def _category_key(code: str) -> str:
    return str(code).strip().lower()
