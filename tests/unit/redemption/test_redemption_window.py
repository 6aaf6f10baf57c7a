from datetime import date, datetime, timedelta

import pytest

from aixin.clock import CAMPAIGN_TZ, end_of_day
from aixin.errors import DomainError
from services.redemption.domain.window import check_redemption_window

DEADLINE = date(2023, 2, 28)
ISSUED = datetime(2023, 1, 15, 10, tzinfo=CAMPAIGN_TZ)
SERIAL = "014111020010000015"


def _code(at, issued_at=ISSUED) -> str:
    with pytest.raises(DomainError) as caught:
        check_redemption_window(at, SERIAL, issued_at, DEADLINE)
    return caught.value.code


class TestRedemptionWindow:
    def test_inside(self):
        check_redemption_window(ISSUED + timedelta(hours=1), SERIAL, ISSUED, DEADLINE)

    def test_at_issue_time(self):
        check_redemption_window(ISSUED, SERIAL, ISSUED, DEADLINE)

    def test_deadline_last_instant(self):
        check_redemption_window(end_of_day(DEADLINE), SERIAL, ISSUED, DEADLINE)

    def test_after_deadline(self):
        at = datetime(2023, 3, 1, 0, 0, tzinfo=CAMPAIGN_TZ)
        assert _code(at) == "redemption_deadline_passed"

    def test_deadline_in_utc(self):
        # 16:30 UTC on the deadline day is 00:30 the next day in Shanghai.
        at = datetime.fromisoformat("2023-02-28T16:30:00+00:00")
        assert _code(at) == "redemption_deadline_passed"

    def test_before_issue(self):
        assert _code(ISSUED - timedelta(seconds=1)) == "voucher_not_issued"

    def test_never_issued(self):
        assert _code(ISSUED, issued_at=None) == "voucher_not_issued"

    def test_naive_rejected(self):
        with pytest.raises(ValueError):
            check_redemption_window(datetime(2023, 2, 1), SERIAL, ISSUED, DEADLINE)
