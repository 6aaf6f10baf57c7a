"""ID-number texts for sample rosters, written right and wrong as exports write them.

Each cell value is checked with the roster's own rules
(:mod:`services.roster.domain.idnumber`), so a planted defect is rejected for the
planted reason and nothing else.
"""

import random
from datetime import date

from services.roster.domain.idnumber import (
    birth_date,
    check_character,
    classify_id,
    looks_like_spreadsheet_number,
    normalize_id_text,
)

_CHECK_CHARACTERS = "0123456789X"
# Month and day pairs that are no calendar date in any year.
_IMPOSSIBLE_DAYS = ("0230", "0231", "0431", "0631", "0931", "1131", "1301", "0000")


def make_id18(rng: random.Random, area: str, born: date, male: bool) -> str:
    """Return a valid 18-character ID number. An odd sequence number means male."""
    sequence = rng.randrange(1, 1000, 2) if male else rng.randrange(2, 1000, 2)
    first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def expect(cell, reason: str | None, id18: str | None = None):
    """Return ``cell`` after checking that the roster rules classify it as planned."""
    planted, normalised = classify_id(normalize_id_text(cell))
    if looks_like_spreadsheet_number(cell) and planted is None:
        planted = "invalid_id_format"
    if planted != reason or (reason is None and id18 and normalised != id18):
        raise AssertionError(f"sample ID planted as {reason} reads as {planted}")
    return cell


def as_fifteen(id18: str) -> str:
    """Return the old 15-digit form (people born in the 1900s only)."""
    if id18[6:8] != "19":
        raise ValueError("only people born in the 1900s have a 15-digit ID number")
    return expect(id18[:6] + id18[8:17], None, id18)


def as_full_width(id18: str) -> str:
    text = "".join(chr(ord(char) + 0xFEE0) for char in id18)
    return expect(text, None, id18)


def as_lowercase_x(id18: str) -> str:
    return expect(id18.replace("X", "x"), None, id18)


def with_stray_spaces(rng: random.Random, id18: str) -> str:
    before = rng.choice((" ", "\u3000", ""))
    after = rng.choice((" ", "\u3000", " \u3000"))
    return expect(before + id18 + after, None, id18)


def as_spreadsheet_text(id18: str) -> str:
    """Return the ID as a spreadsheet shows a long number: ``4.11103E+17``."""
    return expect(f"{float(id18):.5E}", "invalid_id_format")


def as_spreadsheet_number(id18: str) -> float:
    """Return the ID as a number cell stores it: a float that lost its last digits."""
    return expect(float(id18), "invalid_id_format")


def with_wrong_length(rng: random.Random, id18: str) -> str:
    """Return the ID with one digit of the sequence number lost in typing."""
    position = rng.randrange(14, 17)
    return expect(id18[:position] + id18[position + 1 :], "invalid_id_format")


def with_bad_birthdate(rng: random.Random, id18: str) -> str:
    """Return an ID whose birth date is no calendar date, with a correct check."""
    first17 = id18[:10] + rng.choice(_IMPOSSIBLE_DAYS) + id18[14:17]
    if birth_date(first17 + "0") is not None:
        raise AssertionError("planted birth date is a real date")
    return expect(first17 + check_character(first17), "invalid_id_birthdate")


def with_bad_checksum(rng: random.Random, id18: str) -> str:
    wrong = [char for char in _CHECK_CHARACTERS if char != id18[17]]
    return expect(id18[:17] + rng.choice(wrong), "invalid_id_checksum")
