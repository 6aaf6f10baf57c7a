import pytest

from aixin.errors import Conflict, InvalidInput
from services.issuance.domain.states import (
    VoucherState,
    issue,
    redeem,
    void,
)
from services.issuance.domain.voids import VoidReason

SERIAL = "014111020010000015"


class TestIssue:
    def test_from_stock(self):
        assert issue("in_stock", SERIAL) is VoucherState.ISSUED

    @pytest.mark.parametrize("state", ["issued", "voided", "redeemed"])
    def test_not_in_stock(self, state):
        with pytest.raises(Conflict) as caught:
            issue(state, SERIAL)
        assert caught.value.code == "voucher_not_in_stock"

    def test_message_names_serial(self):
        with pytest.raises(Conflict) as caught:
            issue("issued", SERIAL)
        assert SERIAL in caught.value.message

    def test_unknown_state(self):
        with pytest.raises(ValueError):
            issue("printed", SERIAL)


class TestVoid:
    @pytest.mark.parametrize("reason", list(VoidReason))
    def test_stock_any_reason(self, reason):
        assert void("in_stock", reason, SERIAL) is VoucherState.VOIDED

    @pytest.mark.parametrize(
        "reason", ["deceased", "lost", "damaged", "roster_amendment"]
    )
    def test_issued_allowed(self, reason):
        assert void("issued", reason, SERIAL) is VoucherState.VOIDED

    @pytest.mark.parametrize("reason", ["unreachable", "unused_stock"])
    def test_issued_not_allowed(self, reason):
        with pytest.raises(InvalidInput) as caught:
            void("issued", reason, SERIAL)
        assert caught.value.code == "void_reason_not_allowed"

    def test_redeemed(self):
        with pytest.raises(Conflict) as caught:
            void("redeemed", "lost", SERIAL)
        assert caught.value.code == "voucher_already_redeemed"

    def test_voided_twice(self):
        with pytest.raises(Conflict) as caught:
            void("voided", "lost", SERIAL)
        assert caught.value.code == "voucher_voided"

    def test_unknown_reason(self):
        with pytest.raises(InvalidInput) as caught:
            void("in_stock", "stolen", SERIAL)
        assert caught.value.code == "unknown_void_reason"


class TestRedeem:
    def test_from_issued(self):
        assert redeem("issued", SERIAL) is VoucherState.REDEEMED

    @pytest.mark.parametrize(
        ("state", "code"),
        [
            ("in_stock", "voucher_not_issued"),
            ("voided", "voucher_voided"),
            ("redeemed", "voucher_already_redeemed"),
        ],
    )
    def test_rejected(self, state, code):
        with pytest.raises(Conflict) as caught:
            redeem(state, SERIAL)
        assert caught.value.code == code
