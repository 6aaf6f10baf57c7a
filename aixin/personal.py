"""Personal data that must never leave the roster service in full."""

import logging
import re

# An 18-character resident ID number (GB 11643) or an old 15-digit one: an area code
# whose first digit is 1 to 8, then a birth date with a plausible month and day. The
# date keeps 18-digit voucher serials, which start with a campaign number, out.
_MONTH_DAY = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_ID_NUMBER = re.compile(
    r"(?<![0-9])[1-8]\d{5}"
    rf"(?:(?:19|20)\d\d{_MONTH_DAY}\d{{3}}[0-9Xx]|\d\d{_MONTH_DAY}\d{{3}})"
    r"(?![0-9Xx])")


def mask_id_numbers(text: str) -> str:
    """Replace every ID number in ``text`` by its first 6 and last 4 characters."""
    def _mask(match):
        whole = match.group(0)
        return whole[:6] + "*" * (len(whole) - 10) + whole[-4:]
    return _ID_NUMBER.sub(_mask, text)


class MaskIdNumbers(logging.Filter):
    """A logging filter that masks ID numbers in every record's message and traceback.

    nameko logs an expected error with its exception, whose text may quote an ID
    number, so the formatted traceback is masked too.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_id_numbers(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_id_numbers(record.exc_text)
        return True
