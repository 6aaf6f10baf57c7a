from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from aixin.clock import CAMPAIGN_TZ
from aixin.vouchers import make_serial
from services.redemption.domain.cashout import (
    RedemptionRecord,
    consecutive_serials,
    institution_baskets,
    village_bursts,
)
from services.redemption.domain.statement import StatementLine

START = datetime(2023, 1, 16, 10, 0, tzinfo=CAMPAIGN_TZ)
TOWNSHIP = "411102001000"
RICE = StatementLine("大米 5kg", "grain", Decimal(1), 4990, 4990)


def _record(number: int, minutes: float = 0, **overrides) -> RedemptionRecord:
    """Build an ordinary redemption: its own village and a non-adjacent serial."""
    record = RedemptionRecord(
        redemption_id=f"r{number}",
        serial=make_serial(1, TOWNSHIP, number * 10 + 10),
        merchant_id="m1",
        store_id="s1",
        redeemed_at=START + timedelta(minutes=minutes),
        total_fen=4990,
        lines=(RICE,),
        village_code=f"v{number}",
    )
    return replace(record, **overrides)


class TestVillageBursts:
    def test_flags_burst(self):
        records = [_record(n, minutes=n, village_code="v1") for n in range(5)]
        flags = village_bursts(records, min_count=5, window_minutes=10)
        assert [flag.redemption_ids for flag in flags] == [
            ("r0", "r1", "r2", "r3", "r4")
        ]

    def test_explanation_figures(self):
        records = [_record(n, minutes=n, village_code="v1") for n in range(5)]
        flag = village_bursts(records, min_count=5, window_minutes=10)[0]
        assert "5 张" in flag.explanation

    def test_rule_code(self):
        records = [_record(n, minutes=n, village_code="v1") for n in range(5)]
        flag = village_bursts(records, min_count=5, window_minutes=10)[0]
        assert flag.rule == "village_burst"

    def test_spread_out_not_flagged(self):
        records = [_record(n, minutes=30 * n, village_code="v1") for n in range(5)]
        assert village_bursts(records, min_count=5, window_minutes=10) == []

    def test_other_villages_not_flagged(self):
        records = [_record(n, minutes=n) for n in range(10)]
        assert village_bursts(records, min_count=5, window_minutes=10) == []

    def test_other_merchants_not_flagged(self):
        records = [
            _record(n, minutes=n, village_code="v1", merchant_id=f"m{n % 2}")
            for n in range(8)
        ]
        assert village_bursts(records, min_count=5, window_minutes=10) == []

    def test_two_separate_bursts(self):
        records = [_record(n, minutes=n, village_code="v1") for n in range(3)]
        records += [_record(n, minutes=100 + n, village_code="v1") for n in range(3, 6)]
        flags = village_bursts(records, min_count=3, window_minutes=10)
        assert len(flags) == 2

    def test_overlapping_windows_merge(self):
        records = [_record(n, minutes=4 * n, village_code="v1") for n in range(6)]
        flags = village_bursts(records, min_count=3, window_minutes=10)
        assert len(flags[0].redemption_ids) == 6


class TestConsecutiveSerials:
    def _run(self, count: int, gap_minutes: float = 1, start: int = 100) -> list:
        return [
            _record(
                n,
                minutes=gap_minutes * n,
                serial=make_serial(1, TOWNSHIP, start + n),
            )
            for n in range(count)
        ]

    def test_flags_run(self):
        flags = consecutive_serials(self._run(5), min_run=5, window_minutes=10)
        assert flags[0].redemption_ids == ("r0", "r1", "r2", "r3", "r4")

    def test_explanation_names_serials(self):
        flag = consecutive_serials(self._run(5), min_run=5, window_minutes=10)[0]
        assert make_serial(1, TOWNSHIP, 100) in flag.explanation

    def test_any_redemption_order(self):
        records = list(reversed(self._run(5)))
        flags = consecutive_serials(records, min_run=5, window_minutes=10)
        assert len(flags) == 1

    def test_short_run_not_flagged(self):
        flags = consecutive_serials(self._run(2), min_run=5, window_minutes=10)
        assert flags == []

    def test_far_apart_not_flagged(self):
        records = self._run(5, gap_minutes=60 * 24)
        assert consecutive_serials(records, min_run=5, window_minutes=10) == []

    def test_gaps_in_serials_not_flagged(self):
        records = [_record(n, minutes=n) for n in range(6)]
        assert consecutive_serials(records, min_run=3, window_minutes=10) == []

    def test_split_across_merchants(self):
        records = [
            replace(record, merchant_id=f"m{index % 2}")
            for index, record in enumerate(self._run(6))
        ]
        assert consecutive_serials(records, min_run=3, window_minutes=10) == []

    def test_other_township_breaks_run(self):
        records = self._run(4)
        records.append(
            _record(9, minutes=4, serial=make_serial(1, "411102002000", 104))
        )
        assert consecutive_serials(records, min_run=5, window_minutes=10) == []


class TestInstitutionBaskets:
    def test_same_session(self):
        records = [
            _record(n, minutes=50 * n, institution_id="i1", till_session="t1")
            for n in range(4)
        ]
        flags = institution_baskets(records, min_count=4, window_minutes=10)
        assert [flag.redemption_ids for flag in flags] == [("r0", "r1", "r2", "r3")]

    def test_session_in_explanation(self):
        records = [
            _record(n, minutes=50 * n, institution_id="i1", till_session="t1")
            for n in range(4)
        ]
        flag = institution_baskets(records, min_count=4, window_minutes=10)[0]
        assert "t1" in flag.explanation

    def test_within_minutes(self):
        records = [_record(n, minutes=n, institution_id="i1") for n in range(4)]
        flags = institution_baskets(records, min_count=4, window_minutes=10)
        assert flags[0].rule == "institution_basket"

    def test_session_and_time_flagged_once(self):
        records = [
            _record(n, minutes=n, institution_id="i1", till_session="t1")
            for n in range(4)
        ]
        flags = institution_baskets(records, min_count=4, window_minutes=10)
        assert len(flags) == 1

    def test_spread_out_not_flagged(self):
        records = [
            _record(n, minutes=60 * n, institution_id="i1", till_session=f"t{n}")
            for n in range(4)
        ]
        assert institution_baskets(records, min_count=4, window_minutes=10) == []

    def test_dispersed_not_flagged(self):
        records = [_record(n, minutes=n, village_code="v1") for n in range(6)]
        assert institution_baskets(records, min_count=4, window_minutes=10) == []

    def test_other_institutions_not_flagged(self):
        records = [
            _record(n, minutes=n, institution_id=f"i{n}", till_session="t1")
            for n in range(6)
        ]
        assert institution_baskets(records, min_count=4, window_minutes=10) == []
