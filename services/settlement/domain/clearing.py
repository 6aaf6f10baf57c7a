"""Clearing (多退少补) per township and then between the district and the province.

For a township t, the allocation A_t (adjustments included) minus the verified
redemptions R_t, which are the approved voucher parts, goes back township -> district
when positive. When negative, the district tops the township up. The district then
returns what the province sent minus the sum of all R_t, or the province tops it up.
Afterwards every township and the district are at zero, and the province has paid
exactly the sum of R_t.

Figures come from the transfers, and a clearing already posted counts, so a second
clearing of an unchanged township or district finds nothing left to move.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from aixin.errors import DomainError
from aixin.money import format_yuan

from .allocation import allocated_by_township
from .ledger import (
    DISTRICT,
    PROVINCE,
    TOWNSHIP_PREFIX,
    Reason,
    Transfer,
    account_key,
    balances,
    flows,
    new_transfer,
    township_account,
)
from .reimbursement import Redemption, approved_total, pending_ids


@dataclass(frozen=True)
class TownshipClearing:
    """A township's clearing figures in fen.

    ``cleared_fen`` is the net of earlier refunds minus top-ups.
    """

    township: str
    allocated_fen: int
    approved_fen: int
    cleared_fen: int

    @property
    def refund_fen(self) -> int:
        """Still to refund to the district; negative is a top-up still due."""
        return self.allocated_fen - self.approved_fen - self.cleared_fen


@dataclass(frozen=True)
class DistrictClearing:
    """The district's clearing figures with the province, in fen.

    ``needed_fen`` is the sum of all approved voucher parts. ``returned_fen`` is
    the net of earlier refunds to the province minus its top-ups.
    """

    expected_fen: int
    received_fen: int
    needed_fen: int
    returned_fen: int

    @property
    def pre_allocation_difference_fen(self) -> int:
        """Pre-allocation received minus expected."""
        return self.received_fen - self.expected_fen

    @property
    def refund_fen(self) -> int:
        """Still to refund to the province; negative is a top-up still due."""
        return self.received_fen - self.needed_fen - self.returned_fen


def township_clearing(
    township: str, transfers: Iterable[Transfer], redemptions: Iterable[Redemption]
) -> TownshipClearing:
    """Compute a township's clearing after checking that it may be cleared.

    Raises DomainError ``township_audit_incomplete`` while any redemption of the
    township awaits the audit, and ``township_reimbursement_mismatch`` when the
    reimbursements in the ledger differ from the approved voucher parts.
    """
    transfers = list(transfers)
    redemptions = list(redemptions)
    waiting = pending_ids(redemptions, township)
    if waiting:
        raise audit_incomplete([township], waiting)
    approved = approved_total(redemptions, township)
    reimbursed = _reimbursed(transfers, township)
    if reimbursed != approved:
        raise _mismatch(
            "township_reimbursement_mismatch",
            f"镇（街道）{township} 已审核通过的核销与已记账的商超报销不一致",
            approved,
            reimbursed,
        )
    return TownshipClearing(
        township,
        allocated_by_township(transfers).get(township, 0),
        approved,
        _cleared(transfers, township_account(township), DISTRICT),
    )


def township_clearing_transfer(
    clearing: TownshipClearing, source_event_id: str, occurred_at: datetime
) -> Transfer | None:
    """Build the refund or top-up that settles a township, or None when settled."""
    account = township_account(clearing.township)
    return _settling_transfer(
        clearing.refund_fen, account, DISTRICT, source_event_id, occurred_at
    )


def district_clearing(
    transfers: Iterable[Transfer],
    redemptions: Iterable[Redemption],
    expected_pre_allocation_fen: int,
) -> DistrictClearing:
    """Compute the district's clearing with the province.

    Raises DomainError ``township_audit_incomplete`` while any redemption awaits
    the audit, ``district_clearing_incomplete`` while a township account is not at
    zero, and ``district_ledger_mismatch`` when the district's balance disagrees
    with the arithmetic, which means reimbursements are missing from the ledger.
    """
    transfers = list(transfers)
    redemptions = list(redemptions)
    waiting = pending_ids(redemptions)
    if waiting:
        waiting_set = set(waiting)
        townships = sorted(
            {r.township for r in redemptions if r.redemption_id in waiting_set}
        )
        raise audit_incomplete(townships, waiting)
    totals = balances(transfers)
    _check_townships_cleared(totals)
    clearing = DistrictClearing(
        expected_fen=expected_pre_allocation_fen,
        received_fen=_net(transfers, Reason.PRE_ALLOCATION, PROVINCE, DISTRICT),
        needed_fen=approved_total(redemptions),
        returned_fen=_cleared(transfers, DISTRICT, PROVINCE),
    )
    district_balance = totals.get(DISTRICT, 0)
    if district_balance != clearing.refund_fen:
        raise _mismatch(
            "district_ledger_mismatch",
            "区财政账户余额与应退省财政金额不一致",
            clearing.refund_fen,
            district_balance,
        )
    return clearing


def district_clearing_transfer(
    clearing: DistrictClearing, source_event_id: str, occurred_at: datetime
) -> Transfer | None:
    """Build the refund to or top-up from the province, or None when settled."""
    return _settling_transfer(
        clearing.refund_fen, DISTRICT, PROVINCE, source_event_id, occurred_at
    )


def audit_incomplete(townships: list[str], waiting: list[str]) -> DomainError:
    """Build the error that rejects clearing while redemptions await the audit."""
    return DomainError(
        "township_audit_incomplete",
        f"镇（街道）{'、'.join(townships)} 还有 {len(waiting)} 笔核销未经区商务局审核，"
        "暂不能清算；请待全部核销审核完成后再清算。",
        townships=townships,
        pending_redemption_ids=waiting,
    )


def _check_townships_cleared(totals: dict[str, int]) -> None:
    uncleared = sorted(
        account_key(account)
        for account, balance in totals.items()
        if account.startswith(TOWNSHIP_PREFIX) and balance != 0
    )
    if uncleared:
        raise DomainError(
            "district_clearing_incomplete",
            f"镇（街道）{'、'.join(uncleared)} 尚未清算完毕（账户余额不为零），"
            "请先完成这些镇（街道）的清算，再与省财政清算。",
            townships=uncleared,
        )


def _settling_transfer(
    refund_fen: int,
    lower: str,
    upper: str,
    source_event_id: str,
    occurred_at: datetime,
) -> Transfer | None:
    # ``lower`` refunds a positive amount to ``upper``; ``upper`` tops up a negative.
    if refund_fen == 0:
        return None
    if refund_fen > 0:
        return new_transfer(
            lower,
            upper,
            refund_fen,
            Reason.REFUND,
            source_event_id,
            occurred_at,
            memo="清算退回",
        )
    return new_transfer(
        upper,
        lower,
        -refund_fen,
        Reason.TOP_UP,
        source_event_id,
        occurred_at,
        memo="清算补足",
    )


def _reimbursed(transfers: list[Transfer], township: str) -> int:
    account = township_account(township)
    return sum(
        flow.amount_fen
        for flow in flows(transfers)
        if flow.reason is Reason.REIMBURSEMENT and flow.source == account
    )


def _cleared(transfers: list[Transfer], lower: str, upper: str) -> int:
    refunded = _net(transfers, Reason.REFUND, lower, upper)
    topped_up = _net(transfers, Reason.TOP_UP, upper, lower)
    return refunded - topped_up


def _net(transfers: list[Transfer], reason: Reason, source: str, destination: str):
    return sum(
        flow.amount_fen
        for flow in flows(transfers)
        if flow.reason is reason
        and flow.source == source
        and flow.destination == destination
    )


def _mismatch(code: str, subject: str, expected: int, actual: int) -> DomainError:
    return DomainError(
        code,
        f"{subject}：应为 {format_yuan(expected)} 元，账簿中为 {format_yuan(actual)} 元；"
        "请先补记或冲正相应转账后再清算。",
        expected_fen=expected,
        actual_fen=actual,
    )
