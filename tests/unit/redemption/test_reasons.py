import pytest

from aixin.errors import Conflict, DomainError, InvalidInput, NotFound
from services.redemption.domain.reasons import REASON_CODES, REASONS, rejection

DETAILS = {
    "serial": "014111020010000015",
    "deadline": "2023-02-28",
    "line_no": 2,
    "problem": "缺少商品名称",
    "quantity": "2",
    "unit_price_fen": 4990,
    "expected_fen": 9980,
    "amount_fen": 9000,
    "lines_total_fen": 9980,
    "total_fen": 9990,
    "name": "购物卡",
    "category": "prepaid_card",
}

REQUIRED = [
    "invalid_serial",
    "invalid_check_code",
    "voucher_not_found",
    "voucher_not_issued",
    "voucher_voided",
    "voucher_already_redeemed",
    "merchant_not_designated",
    "merchant_designation_inactive",
    "redemption_deadline_passed",
    "statement_empty",
    "statement_line_mismatch",
    "statement_total_mismatch",
    "cash_equivalent_item",
    "idempotency_key_reused",
]


class TestCatalogue:
    @pytest.mark.parametrize("code", REQUIRED)
    def test_required_present(self, code):
        assert code in REASONS

    @pytest.mark.parametrize("code", REASON_CODES)
    def test_message_filled(self, code):
        assert "{" not in rejection(code, **DETAILS).message

    @pytest.mark.parametrize("code", REASON_CODES)
    def test_code_kept(self, code):
        assert rejection(code, **DETAILS).code == code

    @pytest.mark.parametrize(
        ("code", "error_class"),
        [
            ("invalid_serial", InvalidInput),
            ("voucher_not_found", NotFound),
            ("voucher_already_redeemed", Conflict),
            ("idempotency_key_reused", Conflict),
        ],
    )
    def test_status_class(self, code, error_class):
        assert isinstance(rejection(code, **DETAILS), error_class)

    def test_yuan_format(self):
        error = rejection("statement_total_mismatch", lines_total_fen=9980, total_fen=5)
        assert "99.80 元" in error.message

    def test_details_kept(self):
        error = rejection("voucher_voided", serial="X")
        assert error.details == {"serial": "X"}

    def test_unknown_code(self):
        with pytest.raises(KeyError):
            rejection("no_such_reason")

    def test_missing_field(self):
        with pytest.raises(KeyError):
            rejection("voucher_voided")

    def test_all_domain_errors(self):
        assert all(
            issubclass(reason.error_class, DomainError) for reason in REASONS.values()
        )
