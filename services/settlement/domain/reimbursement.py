"""Reimbursement of merchants for the voucher parts of audited redemptions.

An approved redemption makes the issuing township owe the merchant its voucher part:
a township -> merchant transfer credits the merchant's payable. Paying the merchant
moves the amount from the payable to the merchant's paid account. An approval that
the audit withdraws is corrected with Ledger.reverse.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Iterable

from aixin.errors import Conflict, InvalidInput

from .ledger import (
    MERCHANT_PAID_PREFIX,
    Reason,
    Transfer,
    account_key,
    flows,
    merchant_account,
    merchant_paid_account,
    new_transfer,
    township_account,
)


class AuditStatus(StrEnum):
    """A redemption's state in the Commerce Bureau's audit."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    # Cancelled by the redemption service before payment: counts like a rejection.
    VOIDED = "voided"


@dataclass(frozen=True)
class Redemption:
    """A redemption as recorded from the redemption service's events.

    ``township`` is the 12-digit code of the township that issued the voucher and
    ``merchant`` the USCC of the merchant that redeemed it. ``voucher_part_fen`` is
    the part of the purchase paid by the voucher, not the purchase total.
    """

    redemption_id: str
    township: str
    merchant: str
    voucher_part_fen: int
    status: AuditStatus


@dataclass(frozen=True)
class MerchantPosition:
    """Amounts in fen that one merchant is owed and has been paid."""

    uscc: str
    approved_fen: int
    reimbursed_fen: int
    paid_fen: int

    @property
    def unpaid_fen(self) -> int:
        """Reimbursed but not yet paid: the balance of the merchant's payable."""
        return self.reimbursed_fen - self.paid_fen

    @property
    def unposted_fen(self) -> int:
        """Approved by the audit but not yet credited as a reimbursement."""
        return self.approved_fen - self.reimbursed_fen


def approved_total(
    redemptions: Iterable[Redemption], township: str | None = None
) -> int:
    """Sum the voucher parts of approved redemptions, of one township if given."""
    return sum(
        r.voucher_part_fen
        for r in redemptions
        if r.status is AuditStatus.APPROVED and township in (None, r.township)
    )


def pending_ids(
    redemptions: Iterable[Redemption], township: str | None = None
) -> list[str]:
    """Return the ids of redemptions awaiting the audit, of one township if given."""
    return sorted(
        r.redemption_id
        for r in redemptions
        if r.status is AuditStatus.PENDING and township in (None, r.township)
    )


def reimbursement_transfer(
    redemption: Redemption, source_event_id: str, occurred_at: datetime
) -> Transfer:
    """Build the township -> merchant transfer for an approved redemption.

    Raises Conflict unless the redemption is approved.
    """
    if redemption.status is not AuditStatus.APPROVED:
        raise Conflict(
            "redemption_not_approved",
            f"核销 {redemption.redemption_id} 的审核状态为 {redemption.status.value}，"
            "只有审核通过的核销才能报销。",
            redemption_id=redemption.redemption_id,
        )
    return new_transfer(
        township_account(redemption.township),
        merchant_account(redemption.merchant),
        redemption.voucher_part_fen,
        Reason.REIMBURSEMENT,
        source_event_id,
        occurred_at,
        memo=f"核销 {redemption.redemption_id}",
    )


def merchant_payment_transfer(
    uscc: str,
    amount_fen: int,
    source_event_id: str,
    occurred_at: datetime,
    memo: str = "",
) -> Transfer:
    """Build the transfer that records a payment to a merchant.

    A negative amount records the merchant returning an overpayment, for example
    after an approval was withdrawn, so the transfer runs the other way.
    """
    if amount_fen == 0:
        raise InvalidInput(
            "invalid_payment_amount", "付款金额不能为零，请填写实际支付的金额（分）。"
        )
    payable = merchant_account(uscc)
    paid = merchant_paid_account(uscc)
    debit, credit = (payable, paid) if amount_fen > 0 else (paid, payable)
    return new_transfer(
        debit,
        credit,
        abs(amount_fen),
        Reason.MERCHANT_PAYMENT,
        source_event_id,
        occurred_at,
        memo,
    )


def merchant_positions(
    transfers: Iterable[Transfer], redemptions: Iterable[Redemption]
) -> dict[str, MerchantPosition]:
    """Return each merchant's position by USCC, net of reversals."""
    approved: dict[str, int] = defaultdict(int)
    for redemption in redemptions:
        if redemption.status is AuditStatus.APPROVED:
            approved[redemption.merchant] += redemption.voucher_part_fen
    reimbursed: dict[str, int] = defaultdict(int)
    paid: dict[str, int] = defaultdict(int)
    for flow in flows(transfers):
        if flow.reason is Reason.REIMBURSEMENT:
            reimbursed[account_key(flow.destination)] += flow.amount_fen
        elif flow.reason is Reason.MERCHANT_PAYMENT:
            _add_payment(paid, flow.source, flow.destination, flow.amount_fen)
    merchants = sorted(set(approved) | set(reimbursed) | set(paid))
    return {
        uscc: MerchantPosition(uscc, approved[uscc], reimbursed[uscc], paid[uscc])
        for uscc in merchants
    }


def _add_payment(paid: dict, source: str, destination: str, amount: int) -> None:
    if destination.startswith(MERCHANT_PAID_PREFIX):
        paid[account_key(destination)] += amount
    elif source.startswith(MERCHANT_PAID_PREFIX):
        paid[account_key(source)] -= amount
