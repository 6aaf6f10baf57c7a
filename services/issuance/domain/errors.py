"""Issuance rejections: one DomainError subclass per stable code.

Each class fixes its ``code`` and a Chinese message template for the township or
village operator. The template's ``{fields}`` are filled from the keyword details,
which also travel in ``details`` for programs.
"""

from aixin.errors import Conflict, DomainError, InvalidInput


class _IssuanceErrorMixin:
    code: str = ""
    template: str = ""

    def __init__(self, **details):
        super().__init__(self.code, self.template.format(**details), **details)


class BeneficiaryAlreadyHasVoucher(_IssuanceErrorMixin, Conflict):
    code = "beneficiary_already_has_voucher"
    template = (
        "该发放对象已领取券号 {serial} 的消费券，每人限领一张；"
        "如原券遗失或损坏，请先作废原券再补发。"
    )


class SerialOfOtherTownship(_IssuanceErrorMixin, InvalidInput):
    code = "serial_of_other_township"
    template = (
        "券号 {serial} 不属于本镇（街道）的印制批次，不能在本镇发放，请核对券号。"
    )


class SerialOfOtherCampaign(_IssuanceErrorMixin, InvalidInput):
    code = "serial_of_other_campaign"
    template = "券号 {serial} 不属于本期活动，不能发放，请核对券号。"


class VoucherNotInStock(_IssuanceErrorMixin, Conflict):
    code = "voucher_not_in_stock"
    template = (
        "券号 {serial} 当前状态为“{state}”，不在库存中，不能发放，"
        "请换一张库存券。"
    )


class VoucherNotIssued(_IssuanceErrorMixin, Conflict):
    code = "voucher_not_issued"
    template = "券号 {serial} 尚未发放，不能核销。"


class VoucherVoided(_IssuanceErrorMixin, Conflict):
    code = "voucher_voided"
    template = "券号 {serial} 已作废，不能再使用。"


class VoucherAlreadyRedeemed(_IssuanceErrorMixin, Conflict):
    code = "voucher_already_redeemed"
    template = "券号 {serial} 已核销，不能作废或再次使用。"


class VoidReasonNotAllowed(_IssuanceErrorMixin, InvalidInput):
    code = "void_reason_not_allowed"
    template = (
        "券号 {serial} 当前状态为“{state}”，不能以“{reason}”为由作废，"
        "请核对作废原因。"
    )


class UnknownVoidReason(_IssuanceErrorMixin, InvalidInput):
    code = "unknown_void_reason"
    template = "作废原因“{reason}”无效，请从规定的作废原因中选择。"


class FundsNotAllocated(_IssuanceErrorMixin, Conflict):
    code = "funds_not_allocated"
    template = (
        "本镇（街道）的消费券资金尚未拨付到位，暂不能发放，"
        "请待资金到账后再发放。"
    )


class HandoutAfterDeadline(_IssuanceErrorMixin, DomainError):
    code = "handout_after_deadline"
    template = "核销截止日 {deadline} 已过，消费券不能再发放。"


class PrintRunTooLarge(_IssuanceErrorMixin, InvalidInput):
    code = "print_run_too_large"
    template = (
        "本次印制 {count} 张将超出本镇券号上限 {maximum}（已用至 {last_sequence}），"
        "请减少印制数量。"
    )


ISSUANCE_ERRORS = (
    BeneficiaryAlreadyHasVoucher,
    SerialOfOtherTownship,
    SerialOfOtherCampaign,
    VoucherNotInStock,
    VoucherNotIssued,
    VoucherVoided,
    VoucherAlreadyRedeemed,
    VoidReasonNotAllowed,
    UnknownVoidReason,
    FundsNotAllocated,
    HandoutAfterDeadline,
    PrintRunTooLarge,
)
