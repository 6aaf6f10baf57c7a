"""Void reasons: why a voucher is taken out of use, and which allow a reissue."""

from enum import StrEnum

from services.issuance.domain.errors import UnknownVoidReason


class VoidReason(StrEnum):
    UNREACHABLE = "unreachable"
    DECEASED = "deceased"
    LOST = "lost"
    DAMAGED = "damaged"
    ROSTER_AMENDMENT = "roster_amendment"
    UNUSED_STOCK = "unused_stock"


VOID_REASON_LABELS = {
    VoidReason.UNREACHABLE: "联系不上",
    VoidReason.DECEASED: "已故",
    VoidReason.LOST: "遗失",
    VoidReason.DAMAGED: "损坏",
    VoidReason.ROSTER_AMENDMENT: "名单更正",
    VoidReason.UNUSED_STOCK: "剩余库存",
}

# A lost or damaged voucher that was not redeemed is replaced under a new serial,
# so the beneficiary still receives one. Every other reason ends the entitlement
# of that voucher and its money returns at clearing.
REISSUABLE_REASONS = frozenset({VoidReason.LOST, VoidReason.DAMAGED})


def parse_void_reason(value: str) -> VoidReason:
    """Return the VoidReason named by ``value``; raise UnknownVoidReason otherwise."""
    try:
        return VoidReason(str(value).strip())
    except ValueError:
        raise UnknownVoidReason(reason=value) from None


def allows_reissue(reason: str, was_redeemed: bool) -> bool:
    """Tell whether a voucher voided for ``reason`` may be replaced by a new serial.

    A redeemed voucher is never replaced, whatever the reason given.
    """
    return parse_void_reason(reason) in REISSUABLE_REASONS and not was_redeemed
