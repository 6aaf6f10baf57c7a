"""The catalogue of reasons a redemption is rejected.

Every reason has a stable code, the DomainError class that sets its HTTP status,
and a Chinese message template for the cashier. The gateway and the simulator
count rejections by these codes. ``{field}`` placeholders are filled from the
keyword details; ``{field:yuan}`` formats an int number of fen as yuan.
"""

import string
from dataclasses import dataclass

from aixin.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from aixin.money import format_yuan


@dataclass(frozen=True)
class Reason:
    """One rejection reason: code, error class and Chinese message template."""

    code: str
    error_class: type[DomainError]
    template: str


_CATALOGUE = (
    Reason(
        "invalid_serial",
        InvalidInput,
        "券号“{serial}”无效，请对照券面重新输入18位券号。",
    ),
    Reason(
        "invalid_check_code",
        InvalidInput,
        "校验码与券号 {serial} 不符，请对照券面重新输入8位校验码；"
        "如仍不符，此券可能是伪造的，请勿收取。",
    ),
    Reason(
        "voucher_not_found",
        NotFound,
        "系统中没有券号 {serial}，请核对券号；如券号无误，请勿收取并联系区商务局。",
    ),
    Reason(
        "voucher_not_issued",
        Conflict,
        "券号 {serial} 尚未发放，不能核销，请持券人联系发券的镇（街道）。",
    ),
    Reason(
        "voucher_voided",
        Conflict,
        "券号 {serial} 已作废，不能使用，请勿收取。",
    ),
    Reason(
        "voucher_already_redeemed",
        Conflict,
        "券号 {serial} 已经核销过，一张券只能使用一次，请勿重复收取。",
    ),
    Reason(
        "merchant_not_designated",
        Forbidden,
        "本店不是券号 {serial} 所属镇（街道）的指定商超，此券不能在本店使用，"
        "请告知持券人到发券镇（街道）的指定商超使用。",
    ),
    Reason(
        "merchant_designation_inactive",
        Forbidden,
        "本店的指定商超资格当前不在有效期内，暂不能核销消费券，请联系区商务局。",
    ),
    Reason(
        "redemption_deadline_passed",
        DomainError,
        "消费券核销截止日 {deadline} 已过，此券不能再使用。",
    ),
    Reason(
        "statement_empty",
        InvalidInput,
        "流水清单没有商品明细，请附上本次交易的逐项清单后重新提交。",
    ),
    Reason(
        "statement_line_invalid",
        InvalidInput,
        "流水清单第 {line_no} 行无效：{problem}。请修正该行后重新提交。",
    ),
    Reason(
        "statement_line_mismatch",
        InvalidInput,
        "流水清单第 {line_no} 行：数量 {quantity} × 单价 {unit_price_fen:yuan} 元"
        "，应为 {expected_fen:yuan} 元，清单上为 {amount_fen:yuan} 元，请核对该行。",
    ),
    Reason(
        "statement_total_invalid",
        InvalidInput,
        "交易总额 {total_fen} 无效，应为大于0的整数金额（单位：分），"
        "请核对后重新提交。",
    ),
    Reason(
        "statement_total_mismatch",
        InvalidInput,
        "流水清单各行合计 {lines_total_fen:yuan} 元，与交易总额 {total_fen:yuan} 元"
        "不一致，请核对清单。",
    ),
    Reason(
        "cash_equivalent_item",
        DomainError,
        "流水清单第 {line_no} 行“{name}”属于现金类商品（类别 {category}）。"
        "消费券不能用于现金、储值卡、礼品卡、充值或彩票，请移除该商品。",
    ),
    Reason(
        "idempotency_key_reused",
        Conflict,
        "该请求编号已用于另一笔内容不同的核销请求，请为新的核销使用新的请求编号。",
    ),
)

REASONS = {reason.code: reason for reason in _CATALOGUE}
REASON_CODES = tuple(REASONS)


class _MessageFormatter(string.Formatter):
    def format_field(self, value, format_spec):
        if format_spec == "yuan":
            return format_yuan(value)
        return super().format_field(value, format_spec)


_FORMATTER = _MessageFormatter()


def rejection(code: str, **details) -> DomainError:
    """Build (not raise) the error for reason ``code`` with its Chinese message.

    Raises KeyError for a code outside the catalogue and for a template field
    missing from ``details``: both are programming errors.
    """
    reason = REASONS[code]
    message = _FORMATTER.format(reason.template, **details)
    return reason.error_class(code, message, **details)
