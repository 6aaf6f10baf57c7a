"""Why a roster row was rejected, and what the clerk must do about it.

Every rejected row carries exactly one reason code (stable English, for programs
and reports) and a Chinese message that says how to correct the file.
"""

from dataclasses import dataclass

from .idnumber import (
    ID_BORN_AFTER_SNAPSHOT,
    INVALID_ID_BIRTHDATE,
    INVALID_ID_CHECKSUM,
    INVALID_ID_FORMAT,
    MISSING_ID,
)

UNKNOWN_TOWNSHIP = "unknown_township"
TOWNSHIP_OUTSIDE_DISTRICT = "township_outside_district"
MISSING_INSTITUTION = "missing_institution"
MISSING_NAME = "missing_name"
UNKNOWN_CATEGORY = "unknown_category"
CONFLICTING_TOWNSHIP = "conflicting_township"
CONFLICTING_NAME = "conflicting_name"

# The order in which a row's checks run: the first that fails is its reason.
ROW_CHECKS = (
    MISSING_ID,
    INVALID_ID_FORMAT,
    INVALID_ID_BIRTHDATE,
    INVALID_ID_CHECKSUM,
    ID_BORN_AFTER_SNAPSHOT,
    UNKNOWN_TOWNSHIP,
    TOWNSHIP_OUTSIDE_DISTRICT,
    MISSING_INSTITUTION,
    MISSING_NAME,
    UNKNOWN_CATEGORY,
)
# Checks across rows, once every row is read: a person's rows contradict each other.
GROUP_CHECKS = (CONFLICTING_TOWNSHIP, CONFLICTING_NAME)
REASON_CODES = ROW_CHECKS + GROUP_CHECKS

_MESSAGES = {
    MISSING_ID: "身份证号码为空：请按户籍档案补填18位身份证号码后重新导入。",
    INVALID_ID_FORMAT: (
        "身份证号码“{value}”格式不对：应为18位数字（最后一位可为X）或旧版15位数字。"
        "请对照身份证原件更正。"
    ),
    "spreadsheet_number": (
        "身份证号码被表格存成了数字（如4.11103E+17），后几位已经丢失，无法恢复："
        "请把该列设为“文本”格式，按身份证原件重新录入后导入。"
    ),
    INVALID_ID_BIRTHDATE: (
        "身份证号码“{value}”中的出生日期（第7至14位）不是真实的日期："
        "请对照身份证原件更正。"
    ),
    INVALID_ID_CHECKSUM: (
        "身份证号码“{value}”的校验位不对，很可能有一位录错："
        "请对照身份证原件逐位核对后更正。"
    ),
    ID_BORN_AFTER_SNAPSHOT: (
        "身份证号码“{value}”中的出生日期晚于名册月份（{snapshot}）："
        "请核对号码，或确认此人是否属于本期名册。"
    ),
    UNKNOWN_TOWNSHIP: (
        "“{value}”不是{district}现有的乡镇（街道）：请按现行行政区划填写此人所属的"
        "乡镇（街道）全称。"
    ),
    "missing_township": "乡镇（街道）为空：请填写此人所属的乡镇（街道）。",
    TOWNSHIP_OUTSIDE_DISTRICT: (
        "乡镇（街道）“{value}”不属于{district}：本区名册只收本区居民，"
        "请核实此人的所属乡镇，外区人员请转交所在区。"
    ),
    MISSING_INSTITUTION: (
        "集中供养人员没有填写供养机构：请补填此人所在的供养机构（如敬老院）名称。"
    ),
    MISSING_NAME: "姓名为空：请按身份证原件补填姓名。",
    UNKNOWN_CATEGORY: (
        "保障类别“{value}”无法识别：请填写城市低保、农村低保、特困人员"
        "（或代码01至04）。"
    ),
    "missing_category": (
        "保障类别为空：请填写城市低保、农村低保或特困人员（或代码01至04）。"
    ),
    CONFLICTING_TOWNSHIP: (
        "同一身份证号码出现在不同乡镇（街道）：{places}。"
        "请核实此人实际所属乡镇，删除或更正其余各行后重新导入。"
    ),
    CONFLICTING_NAME: (
        "同一身份证号码对应不同姓名：{places}。"
        "请对照身份证原件核实号码和姓名，更正后重新导入。"
    ),
}


@dataclass(frozen=True, slots=True)
class Rejection:
    """One rejected row, as the clerk finds it in the file."""

    file: str
    row: int
    column: str  # the column header exactly as written in the file
    value: str  # an ID number is masked: 411103********1234
    reason: str
    message: str
    sheet: str | None = None


def message_for(reason: str, **context) -> str:
    """Return the Chinese message for ``reason``, filled in with ``context``."""
    return _MESSAGES[reason].format(**context)
