"""Personal data that must never leave the roster service in full."""

import logging
import re

# An 18-character resident ID number (GB 11643) or an old 15-digit one.
_ID_NUMBER = re.compile(r"(?<![0-9])(\d{6})(\d{8}|\d{5})(\d{3}[0-9Xx]|\d{1})(?![0-9Xx])")


def mask_id_numbers(text: str) -> str:
    """Replace every ID number in ``text`` by its first 6 and last 4 characters."""
    def _mask(match):
        whole = match.group(0)
        return whole[:6] + "*" * (len(whole) - 10) + whole[-4:]
    return _ID_NUMBER.sub(_mask, text)


class MaskIdNumbers(logging.Filter):
    """A logging filter that masks ID numbers in every record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_id_numbers(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
