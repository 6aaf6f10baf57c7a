from datetime import date, datetime, timedelta

import pytest

from aixin.clock import CAMPAIGN_TZ, end_of_day
from aixin.errors import Conflict, DomainError, InvalidInput
from aixin.vouchers import make_serial
from services.issuance.domain.handout import (
    check_beneficiary_free,
    check_funds_allocated,
    check_handout_time,
    check_serial_belongs,
)

SPRING_FESTIVAL = date(2023, 1, 22)
DEADLINE = date(2023, 2, 28)
TOWNSHIP = "411102001000"


class TestHandoutTime:
    def test_before_festival(self):
        at = datetime(2023, 1, 15, 10, tzinfo=CAMPAIGN_TZ)
        assert not check_handout_time(at, SPRING_FESTIVAL, DEADLINE)

    def test_festival_last_instant(self):
        at = end_of_day(SPRING_FESTIVAL)
        assert not check_handout_time(at, SPRING_FESTIVAL, DEADLINE)

    def test_day_after_festival_late(self):
        at = datetime(2023, 1, 23, 0, 0, tzinfo=CAMPAIGN_TZ)
        assert check_handout_time(at, SPRING_FESTIVAL, DEADLINE)

    def test_deadline_day_late(self):
        at = end_of_day(DEADLINE)
        assert check_handout_time(at, SPRING_FESTIVAL, DEADLINE)

    def test_after_deadline(self):
        at = end_of_day(DEADLINE) + timedelta(microseconds=1)
        with pytest.raises(DomainError) as caught:
            check_handout_time(at, SPRING_FESTIVAL, DEADLINE)
        assert caught.value.code == "handout_after_deadline"

    def test_utc_input_converted(self):
        # 2023-01-22 16:30 UTC is 2023-01-23 00:30 in Shanghai: late.
        at = datetime.fromisoformat("2023-01-22T16:30:00+00:00")
        assert check_handout_time(at, SPRING_FESTIVAL, DEADLINE)

    def test_naive_rejected(self):
        with pytest.raises(ValueError):
            check_handout_time(datetime(2023, 1, 15), SPRING_FESTIVAL, DEADLINE)


class TestFundsAllocated:
    def test_allocated(self):
        check_funds_allocated(3_000_000)

    def test_missing(self):
        with pytest.raises(Conflict) as caught:
            check_funds_allocated(0)
        assert caught.value.code == "funds_not_allocated"


class TestSerialBelongs:
    def test_own_serial(self):
        check_serial_belongs(make_serial(1, TOWNSHIP, 1), 1, TOWNSHIP)

    def test_other_township(self):
        serial = make_serial(1, "411102002000", 1)
        with pytest.raises(InvalidInput) as caught:
            check_serial_belongs(serial, 1, TOWNSHIP)
        assert caught.value.code == "serial_of_other_township"

    def test_other_campaign(self):
        serial = make_serial(2, TOWNSHIP, 1)
        with pytest.raises(InvalidInput) as caught:
            check_serial_belongs(serial, 1, TOWNSHIP)
        assert caught.value.code == "serial_of_other_campaign"

    def test_malformed(self):
        with pytest.raises(InvalidInput) as caught:
            check_serial_belongs("123", 1, TOWNSHIP)
        assert caught.value.code == "invalid_serial"


class TestBeneficiaryFree:
    def test_no_previous(self):
        check_beneficiary_free([])

    def test_previous_voided(self):
        check_beneficiary_free([("A", "voided"), ("B", "voided")])

    @pytest.mark.parametrize("state", ["in_stock", "issued", "redeemed"])
    def test_live_voucher(self, state):
        with pytest.raises(Conflict) as caught:
            check_beneficiary_free([("A", "voided"), ("B", state)])
        assert caught.value.code == "beneficiary_already_has_voucher"

    def test_message_names_serial(self):
        with pytest.raises(Conflict) as caught:
            check_beneficiary_free([("014111020010000015", "issued")])
        assert "014111020010000015" in caught.value.message
