"""Resident ID numbers (GB 11643-1999): normalise, validate, upgrade and mask.

An 18-character ID number is a 6-digit area code, an 8-digit birth date (YYYYMMDD),
a 3-digit sequence number and a check character (ISO 7064 MOD 11-2, ``X`` for 10).
The older 15-digit form has a 6-digit birth date (YYMMDD, 1900s) and no check
character.
"""

import functools
import operator
import re
from datetime import date

MISSING_ID = "missing_id"
INVALID_ID_FORMAT = "invalid_id_format"
INVALID_ID_BIRTHDATE = "invalid_id_birthdate"
INVALID_ID_CHECKSUM = "invalid_id_checksum"
ID_BORN_AFTER_SNAPSHOT = "id_born_after_snapshot"

# Weight of position i (0-based, left to right) is 2**(17 - i) mod 11.
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
# Indexed by the weighted sum mod 11: the check character that makes it 1 mod 11.
_CHECK_CHARACTERS = "10X98765432"
# The weighted sum over the character codes exceeds the one over the digits by this.
_CODE_OFFSET = ord("0") * sum(_WEIGHTS)
_CHECK_CHARACTER_SET = frozenset("0123456789X")

_ID18 = re.compile(r"\d{17}[\dX]")
_ID15 = re.compile(r"\d{15}")
# Spreadsheet renderings of a long number: 4.11103E+17, 4.11103e17, 4111...234.0
_SPREADSHEET_NUMBER = re.compile(r"\d+(\.\d*)?[eE][+-]?\d+|\d+\.\d*")

# Full-width ASCII (U+FF01..U+FF5E) to ASCII, and characters dropped as spaces.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_INVISIBLE = {ord(char): None for char in "\u200b\u200c\u200d\u2060\ufeff"}
_TRANSLATION = _FULL_WIDTH | _INVISIBLE


def normalize_id_text(raw) -> str:
    """Return the ID text without any whitespace, with full-width characters as ASCII.

    Whitespace includes the ideographic space U+3000 and no-break spaces, also inside
    the text. A lowercase ``x`` becomes ``X``. ``None`` and blank input give ``''``.
    A number (int or float) is converted with ``str``, so a float keeps its
    spreadsheet form (``4.11103e+17``) and is caught by
    :func:`looks_like_spreadsheet_number`.
    """
    if raw is None:
        return ""
    text = str(raw)
    if not text.isascii():  # every character translated is outside ASCII
        text = text.translate(_TRANSLATION)
    if not text.isalnum():  # else it has no whitespace to drop
        text = "".join(text.split())
    return text.replace("x", "X")


def looks_like_spreadsheet_number(raw) -> bool:
    """Tell whether ``raw`` is an ID number that went through a spreadsheet number.

    True for int and float values (a spreadsheet cell that stores a number keeps
    only 15 significant digits), for scientific notation (``4.11103E+17``) and for
    digits with a decimal point (``411103198001011234.0``). Such values have lost
    digits and must be rejected, never repaired.
    """
    if isinstance(raw, bool):
        return False
    if isinstance(raw, (int, float)):
        return True
    return _SPREADSHEET_NUMBER.fullmatch(normalize_id_text(raw)) is not None


def check_character(first17: str) -> str:
    """Compute the ISO 7064 MOD 11-2 check character of the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(
            f"invalid ID number prefix {mask_id(first17)}: need 17 ASCII digits"
        )
    codes = first17.encode("ascii")
    total = sum(map(operator.mul, codes, _WEIGHTS)) - _CODE_OFFSET
    return _CHECK_CHARACTERS[total % 11]


def upgrade_15_to_18(id15: str) -> str:
    """Convert a 15-digit ID number to 18 characters.

    Inserts ``19`` after the 6-digit area code (15-digit numbers were issued to
    people born in the 1900s) and appends the computed check character.
    """
    if _ID15.fullmatch(id15) is None or not id15.isascii():
        raise ValueError(
            f"invalid 15-digit ID number {mask_id(id15)}: need 15 ASCII digits"
        )
    first17 = id15[:6] + "19" + id15[6:]
    return first17 + check_character(first17)


def birth_date(id18: str) -> date | None:
    """Return the birth date in characters 7-14, or None if it is not a real date."""
    return _date_of(id18[6:14])


@functools.lru_cache(maxsize=1 << 16)  # a roster has a few tens of thousands of dates
def _date_of(digits: str) -> date | None:
    if len(digits) != 8 or not digits.isascii() or not digits.isdigit():
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def classify_id(
    normalized: str, snapshot_end: date | None = None
) -> tuple[str | None, str]:
    """Validate a normalised ID number and return ``(reason_code, id18)``.

    ``reason_code`` is None for a valid ID number, else the first failing check of:
    ``missing_id``, ``invalid_id_format``, ``invalid_id_birthdate``,
    ``invalid_id_checksum`` and, only when ``snapshot_end`` is given,
    ``id_born_after_snapshot``. ``id18`` is the 18-character form: a 15-digit
    number is upgraded first. When the format is invalid, ``id18`` is the input.
    A 15-character value ending in ``X`` is an invalid format, because the 15-digit
    form has no check character.
    """
    if not normalized:
        return MISSING_ID, normalized
    if (len(normalized) == 18 and normalized.isascii() and normalized[:17].isdigit()
            and normalized[17] in _CHECK_CHARACTER_SET):
        return _classify_id18(normalized, snapshot_end)  # the usual case, quickly
    if looks_like_spreadsheet_number(normalized) or not normalized.isascii():
        return INVALID_ID_FORMAT, normalized
    if _ID15.fullmatch(normalized):
        normalized = upgrade_15_to_18(normalized)
    elif _ID18.fullmatch(normalized) is None:
        return INVALID_ID_FORMAT, normalized
    return _classify_id18(normalized, snapshot_end)


def _classify_id18(normalized: str, snapshot_end: date | None):
    """Check the birth date and check character of a well-formed 18-character ID."""
    born = birth_date(normalized)
    if born is None:
        return INVALID_ID_BIRTHDATE, normalized
    if check_character(normalized[:17]) != normalized[17]:
        return INVALID_ID_CHECKSUM, normalized
    if snapshot_end is not None and born > snapshot_end:
        return ID_BORN_AFTER_SNAPSHOT, normalized
    return None, normalized


def mask_id(id_number) -> str:
    """Mask an ID number for logs and documents: ``411103********1234``.

    Shows the first 6 and last 4 characters of a value of 15 characters or more.
    A shorter value, which is no valid ID number, becomes asterisks of the same
    length, so a mask never shows more than the first 6 and last 4 characters.
    """
    text = normalize_id_text(id_number)
    if len(text) < 15:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]
