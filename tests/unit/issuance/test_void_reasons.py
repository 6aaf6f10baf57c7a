import pytest

from aixin.errors import InvalidInput
from services.issuance.domain.voids import (
    VOID_REASON_LABELS,
    VoidReason,
    allows_reissue,
    parse_void_reason,
)


class TestAllowsReissue:
    @pytest.mark.parametrize("reason", ["lost", "damaged"])
    def test_lost_or_damaged(self, reason):
        assert allows_reissue(reason, was_redeemed=False)

    @pytest.mark.parametrize("reason", ["lost", "damaged"])
    def test_not_after_redemption(self, reason):
        assert not allows_reissue(reason, was_redeemed=True)

    @pytest.mark.parametrize(
        "reason", ["unreachable", "deceased", "roster_amendment", "unused_stock"]
    )
    def test_other_reasons(self, reason):
        assert not allows_reissue(reason, was_redeemed=False)


class TestParseVoidReason:
    def test_strips_spaces(self):
        assert parse_void_reason(" lost ") is VoidReason.LOST

    def test_unknown(self):
        with pytest.raises(InvalidInput) as caught:
            parse_void_reason("stolen")
        assert caught.value.code == "unknown_void_reason"

    def test_every_reason_labelled(self):
        assert set(VOID_REASON_LABELS) == set(VoidReason)
