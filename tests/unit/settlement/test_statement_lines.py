"""The description (摘要) of each kind of transfer on a settlement statement."""

from datetime import datetime

import pytest

from aixin.clock import CAMPAIGN_TZ
from services.settlement.domain.ledger import (DISTRICT, PROVINCE, Reason, Transfer,
                                               merchant_account, merchant_paid_account,
                                               township_account)
from services.settlement.statements import describe_transfer

TOWNSHIP = township_account("411103101000")
MERCHANT = merchant_account("91411102MA45AB1C2D")
MERCHANT_PAID = merchant_paid_account("91411102MA45AB1C2D")
NAMES = {PROVINCE: "省财政", DISTRICT: "郾城区财政局", TOWNSHIP: "孟庙镇",
         MERCHANT: "好又多超市", MERCHANT_PAID: "好又多超市（已付）"}


def transfer(debit, credit, reason, memo="", reverses=None) -> Transfer:
    return Transfer(transfer_id="t-2", debit=debit, credit=credit, amount_fen=100,
                    reason=reason, source_event_id="e-1",
                    occurred_at=datetime(2023, 3, 1, tzinfo=CAMPAIGN_TZ), memo=memo,
                    reverses=reverses)


CASES = [
    (transfer(PROVINCE, DISTRICT, Reason.PRE_ALLOCATION, "第一批预拨"),
     "省财政预拨资金：第一批预拨"),
    (transfer(PROVINCE, DISTRICT, Reason.PRE_ALLOCATION), "省财政预拨资金"),
    (transfer(DISTRICT, TOWNSHIP, Reason.ALLOCATION, "按花名册人数分配"),
     "按花名册人数分配给孟庙镇"),
    (transfer(DISTRICT, TOWNSHIP, Reason.ALLOCATION_ADJUSTMENT, "花名册更正调整分配"),
     "花名册更正，调增孟庙镇的分配"),
    (transfer(TOWNSHIP, DISTRICT, Reason.ALLOCATION_ADJUSTMENT, "花名册更正调整分配"),
     "花名册更正，调减孟庙镇的分配"),
    (transfer(TOWNSHIP, MERCHANT, Reason.REIMBURSEMENT, "核销 r-1"),
     "孟庙镇向好又多超市报销核销款：核销 r-1"),
    (transfer(MERCHANT, MERCHANT_PAID, Reason.MERCHANT_PAYMENT),
     "向好又多超市支付报销款"),
    (transfer(MERCHANT_PAID, MERCHANT, Reason.MERCHANT_PAYMENT, "审核撤销"),
     "好又多超市退回多付的报销款：审核撤销"),
    (transfer(TOWNSHIP, DISTRICT, Reason.REFUND, "清算退回"), "孟庙镇清算退回郾城区财政局"),
    (transfer(DISTRICT, PROVINCE, Reason.REFUND, "清算退回"), "郾城区财政局清算退回省财政"),
    (transfer(DISTRICT, TOWNSHIP, Reason.TOP_UP, "清算补足"), "郾城区财政局清算补足孟庙镇"),
    (transfer(MERCHANT, TOWNSHIP, Reason.REVERSAL, "核销 r-1 审核不通过，冲正报销", "t-1"),
     "核销 r-1 审核不通过，冲正报销"),
    (transfer(MERCHANT, TOWNSHIP, Reason.REVERSAL, "", "t-1"), "冲正转账 t-1"),
]


@pytest.mark.parametrize("line, expected", CASES)
def test_transfer_description(line, expected):
    assert describe_transfer(line, NAMES.__getitem__) == expected
