"""Voucher states and the transitions between them.

::

    in_stock --issue--> issued --redeem--> redeemed
        \\                 |
         +-----void-------+--> voided

``redeemed`` and ``voided`` are final. Each rejected transition raises the
DomainError that tells the operator why.
"""

from enum import StrEnum

from services.issuance.domain.errors import (
    VoidReasonNotAllowed,
    VoucherAlreadyRedeemed,
    VoucherNotInStock,
    VoucherNotIssued,
    VoucherVoided,
)
from services.issuance.domain.voids import VoidReason, parse_void_reason


class VoucherState(StrEnum):
    IN_STOCK = "in_stock"
    ISSUED = "issued"
    VOIDED = "voided"
    REDEEMED = "redeemed"


STATE_LABELS = {
    VoucherState.IN_STOCK: "库存",
    VoucherState.ISSUED: "已发放",
    VoucherState.VOIDED: "已作废",
    VoucherState.REDEEMED: "已核销",
}

# Reasons a voucher may be voided for, by its current state. Stock that no one
# received can go for any reason. A voucher in someone's hands cannot be "unused
# stock", and "unreachable" means it never reached the person.
VOID_REASONS_BY_STATE = {
    VoucherState.IN_STOCK: frozenset(VoidReason),
    VoucherState.ISSUED: frozenset(
        {
            VoidReason.DECEASED,
            VoidReason.LOST,
            VoidReason.DAMAGED,
            VoidReason.ROSTER_AMENDMENT,
        }
    ),
}


def issue(state: str, serial: str) -> VoucherState:
    """Return the state after handing the voucher out; only stock can be handed out."""
    current = VoucherState(state)
    if current is not VoucherState.IN_STOCK:
        raise VoucherNotInStock(serial=serial, state=STATE_LABELS[current])
    return VoucherState.ISSUED


def void(state: str, reason: str, serial: str) -> VoucherState:
    """Return the state after voiding the voucher for ``reason``.

    Raises VoucherAlreadyRedeemed, VoucherVoided, UnknownVoidReason or
    VoidReasonNotAllowed when the reason does not fit the current state.
    """
    current = VoucherState(state)
    parsed = parse_void_reason(reason)
    if current is VoucherState.REDEEMED:
        raise VoucherAlreadyRedeemed(serial=serial)
    if current is VoucherState.VOIDED:
        raise VoucherVoided(serial=serial)
    if parsed not in VOID_REASONS_BY_STATE[current]:
        raise VoidReasonNotAllowed(
            serial=serial, state=STATE_LABELS[current], reason=parsed.value
        )
    return VoucherState.VOIDED


def redeem(state: str, serial: str) -> VoucherState:
    """Return the state after redemption; only a handed-out voucher can be redeemed."""
    current = VoucherState(state)
    if current is VoucherState.IN_STOCK:
        raise VoucherNotIssued(serial=serial)
    if current is VoucherState.VOIDED:
        raise VoucherVoided(serial=serial)
    if current is VoucherState.REDEEMED:
        raise VoucherAlreadyRedeemed(serial=serial)
    return VoucherState.REDEEMED
