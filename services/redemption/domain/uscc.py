"""Unified social credit codes (统一社会信用代码) per GB 32100-2015.

A code is 18 characters from ``0-9`` and ``A-Z`` without I, O, Z, S and V:

- 1: registration authority (for example 9 for market regulation);
- 2: entity category;
- 3-8: administrative division code, 6 digits;
- 9-17: organisation code per GB 11714 (8 characters and its own check character);
- 18: check character over the first 17, weights ``3**i mod 31``.
"""

import unicodedata

from aixin.errors import InvalidInput

USCC_LENGTH = 18
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# GB 11714 organisation code: 8 body characters and a check character.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def uscc_check_char(first17: str) -> str:
    """Compute the GB 32100 check character of the first 17 characters.

    Raises ValueError when a character is outside the code's alphabet.
    """
    if len(first17) != USCC_LENGTH - 1:
        raise ValueError(f"expected 17 characters, got {len(first17)}")
    total = 0
    for char, weight in zip(first17, USCC_WEIGHTS, strict=True):
        value = USCC_ALPHABET.find(char)
        if value < 0:
            raise ValueError(
                f"invalid character {char!r} in credit code: use 0-9 and A-Z "
                "without I, O, Z, S, V"
            )
        total += value * weight
    return USCC_ALPHABET[(31 - total % 31) % 31]


def normalise_uscc(text: str) -> str:
    """Fold full-width characters, drop spaces and convert to upper case."""
    folded = unicodedata.normalize("NFKC", str(text)).upper()
    return "".join(folded.split())


def validate_uscc(text: str) -> str:
    """Return the normalised code, or raise InvalidInput with code ``invalid_uscc``."""
    code = normalise_uscc(text)
    problem = _find_problem(code)
    if problem:
        raise InvalidInput(
            "invalid_uscc",
            f"统一社会信用代码“{text}”无效：{problem}，请对照营业执照重新输入。",
            uscc=str(text),
        )
    return code


def is_valid_uscc(text: str) -> bool:
    """Tell whether ``text`` is a valid credit code after normalisation."""
    return not _find_problem(normalise_uscc(text))


def make_uscc(
    division_code: str = "411102",
    sequence: int = 1,
    authority: str = "9",
    category: str = "1",
) -> str:
    """Build a valid code, for tests and simulations.

    The organisation code is ``sequence`` as 8 digits with its GB 11714 check
    character, so distinct sequences give distinct codes.
    """
    body = f"{sequence:08d}"
    if len(body) != 8:
        raise ValueError(f"sequence {sequence} does not fit in 8 digits")
    first17 = f"{authority}{category}{division_code}{body}{_org_check_char(body)}"
    return first17 + uscc_check_char(first17)


def _find_problem(code: str) -> str:
    if len(code) != USCC_LENGTH:
        return f"应为18位，实际为{len(code)}位"
    bad = [char for char in code if char not in USCC_ALPHABET]
    if bad:
        return f"含有不允许的字符“{bad[0]}”（不使用I、O、Z、S、V）"
    if not code[2:8].isdigit():
        return "第3至8位应为行政区划代码（6位数字）"
    if uscc_check_char(code[:17]) != code[17]:
        return "校验位不符，可能输错了某一位"
    return ""


def _org_check_char(body: str) -> str:
    pairs = zip(body, _ORG_WEIGHTS, strict=True)
    total = sum(int(char, 36) * weight for char, weight in pairs)
    check = 11 - total % 11
    if check == 10:
        return "X"
    return "0" if check == 11 else str(check)
