from aixin.vouchers import make_serial
from services.issuance.domain.identities import (
    HANDED_OUT_IDENTITY,
    PRINTED_IDENTITY,
    TownshipCounts,
    VoucherRecord,
    check_identities,
    township_counts,
)

TOWNSHIP = "411102001000"
OTHER = "411102002000"


def _serial(sequence: int, township: str = TOWNSHIP) -> str:
    return make_serial(1, township, sequence)


def _healthy() -> list[VoucherRecord]:
    return [
        VoucherRecord(_serial(1), TOWNSHIP, "in_stock", False),
        VoucherRecord(_serial(2), TOWNSHIP, "issued", True),
        VoucherRecord(_serial(3), TOWNSHIP, "redeemed", True),
        VoucherRecord(_serial(4), TOWNSHIP, "voided", True),
        VoucherRecord(_serial(5), TOWNSHIP, "voided", False),
        VoucherRecord(_serial(1, OTHER), OTHER, "issued", True),
    ]


class TestHealthy:
    def test_no_broken_identity(self):
        assert check_identities(_healthy()) == []

    def test_accepts_tuples(self):
        rows = [
            (r.serial, r.township_code, r.state, r.ever_issued) for r in _healthy()
        ]
        assert check_identities(rows) == []

    def test_empty(self):
        assert check_identities([]) == []

    def test_counts(self):
        counts = township_counts(_healthy())
        assert counts[0] == TownshipCounts(
            township_code=TOWNSHIP,
            printed=5,
            in_stock=1,
            handed_out=2,
            voided=2,
            outstanding=1,
            redeemed=1,
        )


class TestBroken:
    def test_stock_with_handout(self):
        records = _healthy() + [VoucherRecord(_serial(6), TOWNSHIP, "in_stock", True)]
        broken = check_identities(records)
        assert [(b.identity, b.serials) for b in broken] == [
            (PRINTED_IDENTITY, (_serial(6),)),
            (HANDED_OUT_IDENTITY, (_serial(6),)),
        ]

    def test_issued_without_handout(self):
        records = _healthy() + [VoucherRecord(_serial(6), TOWNSHIP, "issued", False)]
        broken = check_identities(records)
        assert [(b.identity, b.serials) for b in broken] == [
            (PRINTED_IDENTITY, (_serial(6),)),
            (HANDED_OUT_IDENTITY, (_serial(6),)),
        ]

    def test_redeemed_without_handout_sides(self):
        records = _healthy() + [VoucherRecord(_serial(6), TOWNSHIP, "redeemed", False)]
        broken = check_identities(records)
        assert (broken[1].left, broken[1].right) == (2, 3)

    def test_foreign_serial(self):
        foreign = _serial(9, OTHER)
        records = _healthy() + [VoucherRecord(foreign, TOWNSHIP, "in_stock", False)]
        broken = check_identities(records)
        assert [(b.identity, b.serials) for b in broken] == [
            (PRINTED_IDENTITY, (foreign,))
        ]

    def test_foreign_serial_sides(self):
        foreign = _serial(9, OTHER)
        records = _healthy() + [VoucherRecord(foreign, TOWNSHIP, "in_stock", False)]
        broken = check_identities(records)
        assert (broken[0].left, broken[0].right) == (5, 6)

    def test_malformed_serial(self):
        records = _healthy() + [VoucherRecord("123", TOWNSHIP, "in_stock", False)]
        assert check_identities(records)[0].serials == ("123",)

    def test_duplicate_row(self):
        records = _healthy() + [VoucherRecord(_serial(2), TOWNSHIP, "issued", True)]
        broken = check_identities(records)
        assert [(b.identity, b.serials) for b in broken] == [
            (PRINTED_IDENTITY, (_serial(2),))
        ]

    def test_unknown_state(self):
        records = _healthy() + [VoucherRecord(_serial(6), TOWNSHIP, "lost", False)]
        broken = check_identities(records)
        assert [(b.identity, b.serials) for b in broken] == [
            (PRINTED_IDENTITY, (_serial(6),))
        ]

    def test_unknown_state_after_handout(self):
        records = _healthy() + [VoucherRecord(_serial(6), TOWNSHIP, "lost", True)]
        broken = check_identities(records)
        assert [(b.identity, b.serials) for b in broken] == [
            (HANDED_OUT_IDENTITY, (_serial(6),))
        ]

    def test_names_township(self):
        records = _healthy() + [VoucherRecord(_serial(6), TOWNSHIP, "issued", False)]
        assert check_identities(records)[0].township_code == TOWNSHIP

    def test_other_township_untouched(self):
        records = _healthy() + [VoucherRecord(_serial(6), TOWNSHIP, "issued", False)]
        townships = {b.township_code for b in check_identities(records)}
        assert townships == {TOWNSHIP}
