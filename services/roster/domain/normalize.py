"""Cell text as the rules compare it, and categories as written in exports.

Exports write the same thing many ways: full-width digits and brackets, leading
and trailing spaces (also the ideographic space U+3000), ``城市低保`` or the code
``01``, ``特困人员`` with a separate 供养方式 column or ``集中供养特困人员`` in one
cell.
"""

import re
import unicodedata
from datetime import date, datetime

URBAN_DIBAO = "urban_dibao"
RURAL_DIBAO = "rural_dibao"
TEKUN = "tekun"
CATEGORIES = (URBAN_DIBAO, RURAL_DIBAO, TEKUN)

DISPERSED = "dispersed"
INSTITUTIONAL = "institutional"

# Category codes of the civil-affairs systems: (category, support mode).
_CATEGORY_CODES = {
    "1": (URBAN_DIBAO, None),
    "2": (RURAL_DIBAO, None),
    "3": (TEKUN, INSTITUTIONAL),  # 集中供养, older name 五保
    "4": (TEKUN, DISPERSED),
}
_CODE = re.compile(r"0?([1-4])(?![0-9])")
# Look-alikes of the middle dot in minority names (買買提·艾力), after NFKC.
_DOTS = str.maketrans({".": "·", "•": "·", "・": "·", "‧": "·", "∙": "·", "⋅": "·"})
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def clean_text(raw) -> str:
    """Return a cell as text: NFKC (full-width to ASCII), no whitespace at all.

    For township, village, institution, category and support mode, where a space
    inside the text (``商桥 镇``) is always a typing slip.
    """
    if type(raw) is str:  # the usual cell, without _as_text's type checks
        return "".join(unicodedata.normalize("NFKC", raw).split())
    return "".join(_as_text(raw).split())


def clean_name(raw) -> str:
    """Return a person's name with the middle dot (·) kept and unified.

    Chinese names lose every space (``张　三`` is 张三); names without Chinese
    characters keep single spaces between words.
    """
    text = _as_text(raw).translate(_DOTS)
    if _CJK.search(text):
        return "".join(text.split())
    return " ".join(text.split())


def parse_category(raw) -> tuple[str | None, str | None]:
    """Read a 保障类别 cell: ``(category, support mode or None)``.

    ``(None, None)`` means the text names no category this campaign knows.
    """
    text = clean_text(raw)
    code = _CODE.match(text)
    if code:
        return _CATEGORY_CODES[code.group(1)]
    if "低保" in text or "最低生活保障" in text:
        if text.startswith(("城市", "城镇", "城")):
            return URBAN_DIBAO, None
        if text.startswith("农"):
            return RURAL_DIBAO, None
        return None, None
    if "特困" in text or "五保" in text:
        return TEKUN, parse_support_mode(text)
    return None, None


def parse_support_mode(raw) -> str | None:
    """Read a 供养方式 cell (集中供养 / 分散供养); None when it names neither."""
    text = clean_text(raw)
    if "集中" in text:
        return INSTITUTIONAL
    if "分散" in text:
        return DISPERSED
    return None


def _as_text(raw) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # a category code 1 typed into a number cell reads 1.0
    elif isinstance(raw, datetime):
        raw = raw.date()
    if isinstance(raw, date):
        return raw.isoformat()
    return unicodedata.normalize("NFKC", str(raw))
