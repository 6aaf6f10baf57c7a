"""ID numbers are masked in log messages and in the tracebacks logged with them."""

import logging

from aixin.personal import MaskIdNumbers, mask_id_numbers

FULL_ID = "411103198001011236"


class TestMaskIdNumbers:
    def test_eighteen_digit_number_is_masked(self):
        assert mask_id_numbers(f"id {FULL_ID}") == "id 411103********1236"

    def test_voucher_serial_is_left_alone(self):
        assert mask_id_numbers("serial 014111031010000017") == \
            "serial 014111031010000017"

    def test_traceback_is_masked(self):
        try:
            raise ValueError(f"bad beneficiary {FULL_ID}")
        except ValueError:
            record = logging.LogRecord("x", logging.WARNING, __file__, 1,
                                       "rejected", None, exc_info=True)
            import sys
            record.exc_info = sys.exc_info()
        MaskIdNumbers().filter(record)
        assert FULL_ID not in logging.Formatter().format(record)
        assert "411103********1236" in record.exc_text
