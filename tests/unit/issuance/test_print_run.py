from decimal import Decimal

import pytest

from aixin.errors import InvalidInput
from services.issuance.domain.print_run import next_sequences, print_run_size


class TestPrintRunSize:
    @pytest.mark.parametrize(
        ("eligible", "percent", "expected"),
        [
            (1000, 0, 1000),
            (1000, 2, 1020),
            (1001, 1, 1012),
            (999, "2.5", 1024),
            (1, Decimal("0.1"), 2),
            (0, 5, 0),
            (200, 100, 400),
        ],
    )
    def test_rounds_spare_up(self, eligible, percent, expected):
        assert print_run_size(eligible, percent) == expected

    @pytest.mark.parametrize("percent", [-1, "101", 2.5, "abc", "NaN", "Infinity"])
    def test_bad_percent(self, percent):
        with pytest.raises(ValueError):
            print_run_size(100, percent)

    @pytest.mark.parametrize("eligible", [-1, 1.0, True])
    def test_bad_count(self, eligible):
        with pytest.raises(ValueError):
            print_run_size(eligible, 0)


class TestNextSequences:
    def test_first_run(self):
        assert next_sequences(0, 3) == range(1, 4)

    def test_follows_last(self):
        assert next_sequences(10, 2) == range(11, 13)

    def test_fills_to_maximum(self):
        assert next_sequences(999_990, 9)[-1] == 999_999

    def test_too_large(self):
        with pytest.raises(InvalidInput) as caught:
            next_sequences(999_990, 10)
        assert caught.value.code == "print_run_too_large"
