from dataclasses import replace
from datetime import datetime, time, timedelta
from decimal import Decimal

from aixin.clock import CAMPAIGN_TZ
from aixin.vouchers import make_serial
from services.redemption.domain.cashout import (
    OpeningHours,
    RedemptionRecord,
    identical_baskets,
    merchant_volume,
    outside_opening_hours,
    removed_from_roster,
    single_line_face_value,
)
from services.redemption.domain.statement import StatementLine

START = datetime(2023, 1, 16, 10, 0, tzinfo=CAMPAIGN_TZ)
TOWNSHIP = "411102001000"
FACE = 30000
RICE = StatementLine("大米 5kg", "grain", Decimal(1), 4990, 4990)
OIL = StatementLine("花生油 5L", "oil", Decimal(1), 8990, 8990)
MILK = StatementLine("牛奶", "dairy", Decimal(2), 6500, 13000)
CARD = StatementLine("商品", "general", Decimal(1), FACE, FACE)


def _record(number: int, lines=(RICE, OIL), **overrides) -> RedemptionRecord:
    record = RedemptionRecord(
        redemption_id=f"r{number}",
        serial=make_serial(1, TOWNSHIP, number + 1),
        merchant_id="m1",
        store_id="s1",
        redeemed_at=START + timedelta(hours=number),
        total_fen=sum(line.amount_fen for line in lines),
        lines=tuple(lines),
        beneficiary_id=f"b{number}",
    )
    return replace(record, **overrides)


class TestIdenticalBaskets:
    def test_flags_repeats(self):
        records = [_record(n) for n in range(3)]
        flags = identical_baskets(records, min_repeats=3, min_lines=2)
        assert [flag.redemption_ids for flag in flags] == [("r0", "r1", "r2")]

    def test_line_order_ignored(self):
        records = [_record(0), _record(1, lines=(OIL, RICE)), _record(2)]
        flags = identical_baskets(records, min_repeats=3, min_lines=2)
        assert len(flags) == 1

    def test_explanation_total(self):
        records = [_record(n) for n in range(3)]
        flag = identical_baskets(records, min_repeats=3, min_lines=2)[0]
        assert "139.80 元" in flag.explanation

    def test_varied_baskets_not_flagged(self):
        records = [_record(0), _record(1, lines=(RICE, MILK)), _record(2)]
        assert identical_baskets(records, min_repeats=3, min_lines=2) == []

    def test_small_basket_not_flagged(self):
        records = [_record(n, lines=(RICE,)) for n in range(5)]
        assert identical_baskets(records, min_repeats=3, min_lines=2) == []

    def test_other_merchants_not_flagged(self):
        records = [_record(n, merchant_id=f"m{n}") for n in range(3)]
        assert identical_baskets(records, min_repeats=3, min_lines=2) == []


class TestSingleLineFaceValue:
    def test_flags_single_line(self):
        records = [_record(0, lines=(CARD,))]
        flags = single_line_face_value(records, face_value_fen=FACE)
        assert flags[0].redemption_ids == ("r0",)

    def test_explanation_amount(self):
        records = [_record(0, lines=(CARD,))]
        flag = single_line_face_value(records, face_value_fen=FACE)[0]
        assert "300.00 元" in flag.explanation

    def test_ordinary_basket_not_flagged(self):
        records = [_record(0), _record(1, lines=(RICE, OIL, MILK))]
        assert single_line_face_value(records, face_value_fen=FACE) == []

    def test_single_line_other_amount(self):
        records = [_record(0, lines=(MILK,))]
        assert single_line_face_value(records, face_value_fen=FACE) == []

    def test_face_value_among_others(self):
        records = [_record(0, lines=(CARD, RICE))]
        assert single_line_face_value(records, face_value_fen=FACE) == []


class TestOpeningHours:
    HOURS = {"s1": OpeningHours(time(8), time(21))}

    def test_flags_night(self):
        record = _record(0, redeemed_at=datetime(2023, 1, 16, 23, tzinfo=CAMPAIGN_TZ))
        flags = outside_opening_hours([record], opening_hours=self.HOURS)
        assert flags[0].redemption_ids == ("r0",)

    def test_explanation_hours(self):
        record = _record(0, redeemed_at=datetime(2023, 1, 16, 23, tzinfo=CAMPAIGN_TZ))
        flag = outside_opening_hours([record], opening_hours=self.HOURS)[0]
        assert "08:00-21:00" in flag.explanation

    def test_closing_time_outside(self):
        record = _record(0, redeemed_at=datetime(2023, 1, 16, 21, tzinfo=CAMPAIGN_TZ))
        assert outside_opening_hours([record], opening_hours=self.HOURS)

    def test_open_hours_not_flagged(self):
        records = [_record(n) for n in range(8)]
        assert outside_opening_hours(records, opening_hours=self.HOURS) == []

    def test_utc_time_converted(self):
        # 02:00 UTC is 10:00 in Shanghai, inside the hours.
        moment = datetime.fromisoformat("2023-01-16T02:00+00:00")
        record = _record(0, redeemed_at=moment)
        assert outside_opening_hours([record], opening_hours=self.HOURS) == []

    def test_unknown_store_skipped(self):
        record = _record(0, store_id="s9", redeemed_at=START.replace(hour=3))
        assert outside_opening_hours([record], opening_hours=self.HOURS) == []

    def test_overnight_store(self):
        hours = OpeningHours(time(20), time(2))
        assert hours.contains(time(1))

    def test_overnight_store_closed(self):
        hours = OpeningHours(time(20), time(2))
        assert not hours.contains(time(10))

    def test_all_day(self):
        assert OpeningHours(time(0), time(0)).contains(time(3))


class TestRemovedFromRoster:
    REMOVED = {"b1": START + timedelta(minutes=30)}

    def test_flags_after_removal(self):
        flags = removed_from_roster([_record(1)], removed_at=self.REMOVED)
        assert flags[0].redemption_ids == ("r1",)

    def test_explanation_names_beneficiary(self):
        flag = removed_from_roster([_record(1)], removed_at=self.REMOVED)[0]
        assert "b1" in flag.explanation

    def test_before_removal_not_flagged(self):
        removed = {"b1": START + timedelta(hours=5)}
        assert removed_from_roster([_record(1)], removed_at=removed) == []

    def test_on_roster_not_flagged(self):
        records = [_record(n) for n in (0, 2, 3)]
        assert removed_from_roster(records, removed_at=self.REMOVED) == []


class TestMerchantVolume:
    def test_flags_excess(self):
        records = [_record(n) for n in range(5)]
        flags = merchant_volume(records, store_counts={"m1": 2}, max_per_store=2)
        assert len(flags[0].redemption_ids) == 5

    def test_explanation_figures(self):
        records = [_record(n) for n in range(5)]
        flag = merchant_volume(records, store_counts={"m1": 2}, max_per_store=2)[0]
        assert "平均每店 2.5 张" in flag.explanation

    def test_at_threshold_not_flagged(self):
        records = [_record(n) for n in range(4)]
        assert merchant_volume(records, store_counts={"m1": 2}, max_per_store=2) == []

    def test_no_registered_store(self):
        flags = merchant_volume([_record(0)], store_counts={}, max_per_store=100)
        assert "没有登记门店" in flags[0].explanation

    def test_counts_distinct_vouchers(self):
        records = [_record(0), _record(1, serial=_record(0).serial)]
        assert merchant_volume(records, store_counts={"m1": 1}, max_per_store=1) == []
