from decimal import Decimal

import pytest

from aixin.errors import DomainError, InvalidInput
from services.redemption.domain.statement import (
    DEFAULT_CASH_EQUIVALENT_CATEGORIES,
    StatementLine,
    line_amount_fen,
    validate_statement,
)

CASH = DEFAULT_CASH_EQUIVALENT_CATEGORIES


def _line(**overrides) -> dict:
    line = {
        "name": "大米 5kg",
        "category": "grain",
        "quantity": 2,
        "unit_price_fen": 4990,
        "amount_fen": 9980,
    }
    line.update(overrides)
    return line


def _code(lines, total_fen, categories=CASH) -> str:
    with pytest.raises(DomainError) as caught:
        validate_statement(lines, total_fen, categories)
    return caught.value.code


class TestValid:
    def test_returns_typed_lines(self):
        statement = validate_statement([_line()], 9980, CASH)
        assert statement.lines[0].quantity == Decimal(2)

    def test_total(self):
        lines = [_line(), _line(name="食用油", quantity=1, amount_fen=4990)]
        assert validate_statement(lines, 14970, CASH).total_fen == 14970

    def test_weighed_goods(self):
        line = _line(
            name="猪肉", quantity="1.235", unit_price_fen=2800, amount_fen=3458
        )
        assert validate_statement([line], 3458, CASH).lines[0].amount_fen == 3458

    def test_accepts_dataclass(self):
        line = StatementLine("牛奶", "dairy", Decimal(1), 6500, 6500)
        assert validate_statement([line], 6500, CASH).lines == (line,)

    def test_generator_lines(self):
        assert validate_statement((line for line in [_line()]), 9980, CASH)

    def test_no_cash_list(self):
        line = _line(category="gift_card")
        assert validate_statement([line], 9980, ()).total_fen == 9980


class TestLineAmount:
    @pytest.mark.parametrize(
        ("quantity", "unit", "expected"),
        [("1.235", 2800, 3458), ("0.5", 1, 1), ("0.499", 1, 0), ("3", 1250, 3750)],
    )
    def test_rounds_half_up(self, quantity, unit, expected):
        assert line_amount_fen(Decimal(quantity), unit) == expected


class TestRejected:
    def test_empty(self):
        assert _code([], 0) == "statement_empty"

    def test_line_mismatch(self):
        assert _code([_line(amount_fen=9981)], 9981) == "statement_line_mismatch"

    def test_line_mismatch_message(self):
        with pytest.raises(InvalidInput) as caught:
            validate_statement([_line(), _line(amount_fen=9000)], 18980, CASH)
        assert "第 2 行" in caught.value.message

    def test_line_mismatch_details(self):
        with pytest.raises(InvalidInput) as caught:
            validate_statement([_line(amount_fen=9000)], 9000, CASH)
        assert caught.value.details["expected_fen"] == 9980

    def test_line_mismatch_yuan(self):
        with pytest.raises(InvalidInput) as caught:
            validate_statement([_line(amount_fen=9000)], 9000, CASH)
        assert "99.80 元" in caught.value.message

    def test_total_mismatch(self):
        assert _code([_line()], 9990) == "statement_total_mismatch"

    def test_total_mismatch_message(self):
        with pytest.raises(InvalidInput) as caught:
            validate_statement([_line()], 9990, CASH)
        assert "99.90" in caught.value.message

    @pytest.mark.parametrize("total", [0, -1, "9980", 9980.0, None, True])
    def test_total_invalid(self, total):
        assert _code([_line()], total) == "statement_total_invalid"

    @pytest.mark.parametrize("category", CASH)
    def test_cash_equivalent(self, category):
        line = _line(category=category)
        assert _code([line], 9980) == "cash_equivalent_item"

    def test_cash_equivalent_case(self):
        line = _line(category=" Gift_Card ")
        assert _code([line], 9980) == "cash_equivalent_item"

    def test_configured_category(self):
        line = _line(category="tobacco")
        assert _code([line], 9980, ["tobacco"]) == "cash_equivalent_item"

    def test_cash_equivalent_message(self):
        with pytest.raises(DomainError) as caught:
            line = _line(name="购物卡", category="prepaid_card")
            validate_statement([line], 9980, CASH)
        assert "购物卡" in caught.value.message

    @pytest.mark.parametrize(
        "overrides",
        [
            {"amount_fen": 0},
            {"amount_fen": -9980},
            {"unit_price_fen": 0},
            {"unit_price_fen": -4990},
            {"unit_price_fen": 49.9},
            {"quantity": 0},
            {"quantity": -2},
            {"quantity": "1.2345"},
            {"quantity": 2.0},
            {"quantity": "two"},
            {"quantity": "NaN"},
            {"quantity": None},
            {"name": ""},
            {"name": "  "},
            {"category": ""},
            {"category": None},
        ],
    )
    def test_line_invalid(self, overrides):
        assert _code([_line(**overrides)], 9980) == "statement_line_invalid"

    def test_missing_field(self):
        line = _line()
        del line["amount_fen"]
        assert _code([line], 9980) == "statement_line_invalid"

    def test_not_a_mapping(self):
        assert _code(["大米"], 9980) == "statement_line_invalid"

    def test_invalid_names_line(self):
        with pytest.raises(InvalidInput) as caught:
            validate_statement([_line(), _line(amount_fen=0)], 9980, CASH)
        assert caught.value.details["line_no"] == 2


class TestStatementLimits:
    def test_absurd_amount_is_rejected(self):
        from services.redemption.domain.statement import validate_statement
        line = {"item": "大米", "category": "grain", "quantity": 1,
                "unit_price_fen": 10 ** 30, "amount_fen": 10 ** 30}
        with pytest.raises(DomainError) as raised:
            validate_statement([line], 10 ** 30, [])
        assert raised.value.code == "statement_line_invalid"

    def test_absurd_quantity_is_rejected(self):
        from services.redemption.domain.statement import validate_statement
        line = {"item": "大米", "category": "grain", "quantity": "1e9999",
                "unit_price_fen": 100, "amount_fen": 100}
        with pytest.raises(DomainError) as raised:
            validate_statement([line], 100, [])
        assert raised.value.code == "statement_line_invalid"
