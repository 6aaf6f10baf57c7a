"""Pre-allocation and allocation: what the province sends and each township gets.

The province should send eligible persons × face value to district finance, which
allocates eligible count × face value to each township. Roster amendments after the
allocation are settled by adjustment transfers, computed from the ledger so that a
replayed amendment moves nothing.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Mapping

from aixin.errors import InvalidInput

from .ledger import (
    DISTRICT,
    PROVINCE,
    TOWNSHIP_PREFIX,
    Reason,
    Transfer,
    account_key,
    flows,
    new_transfer,
    township_account,
)

_ALLOCATION_REASONS = (Reason.ALLOCATION, Reason.ALLOCATION_ADJUSTMENT)


@dataclass(frozen=True)
class RosterAmendment:
    """A change of a township's eligible count, such as -1 for a death."""

    township: str
    count_change: int


@dataclass(frozen=True)
class PreAllocationStatus:
    """Expected pre-allocation compared with the receipts from the province."""

    expected_fen: int
    received_fen: int
    receipts: tuple[tuple[datetime, int], ...]

    @property
    def difference_fen(self) -> int:
        """Received minus expected: negative while the province has sent too little."""
        return self.received_fen - self.expected_fen


def expected_pre_allocation(eligible_count: int, face_value_fen: int) -> int:
    """Return eligible persons × face value: what the province should send."""
    _check_count(eligible_count, "全区")
    _check_face_value(face_value_fen)
    return eligible_count * face_value_fen


def pre_allocation_transfer(
    amount_fen: int, source_event_id: str, occurred_at: datetime, memo: str = ""
) -> Transfer:
    """Build the province -> district transfer of money that actually arrived."""
    return new_transfer(
        PROVINCE,
        DISTRICT,
        amount_fen,
        Reason.PRE_ALLOCATION,
        source_event_id,
        occurred_at,
        memo,
    )


def pre_allocation_status(
    transfers: Iterable[Transfer], expected_fen: int
) -> PreAllocationStatus:
    """Compare the pre-allocations received, net of reversals, with the expected sum.

    Each receipt is (when, fen), where a reversal appears as a negative amount.
    """
    receipts = tuple(
        (flow.transfer.occurred_at, flow.amount_fen)
        for flow in flows(transfers)
        if flow.reason is Reason.PRE_ALLOCATION
    )
    received = sum(amount for _, amount in receipts)
    return PreAllocationStatus(expected_fen, received, receipts)


def amend_counts(
    counts: Mapping[str, int], amendments: Iterable[RosterAmendment]
) -> dict[str, int]:
    """Apply roster amendments to eligible counts per township code.

    Raises InvalidInput when a count would fall below zero.
    """
    amended = dict(counts)
    for amendment in amendments:
        township = amendment.township
        amended[township] = amended.get(township, 0) + amendment.count_change
        _check_count(amended[township], township)
    return amended


def allocation_proposal(
    eligible_counts: Mapping[str, int], face_value_fen: int
) -> dict[str, int]:
    """Return the allocation in fen per township code: eligible count × face value."""
    _check_face_value(face_value_fen)
    proposal = {}
    for township, count in sorted(eligible_counts.items()):
        _check_count(count, township)
        proposal[township] = count * face_value_fen
    return proposal


def allocation_transfers(
    proposal: Mapping[str, int], source_event_id: str, occurred_at: datetime
) -> list[Transfer]:
    """Build the district -> township transfers of an approved proposal.

    One approval event yields one transfer per township, so each transfer gets the
    source id ``<source_event_id>#<township code>``. Townships at zero get none.
    """
    return [
        new_transfer(
            DISTRICT,
            township_account(township),
            amount,
            Reason.ALLOCATION,
            f"{source_event_id}#{township}",
            occurred_at,
            memo="按花名册人数分配",
        )
        for township, amount in sorted(proposal.items())
        if amount > 0
    ]


def allocated_by_township(transfers: Iterable[Transfer]) -> dict[str, int]:
    """Return the net allocation in fen per township code, adjustments included."""
    allocated: dict[str, int] = defaultdict(int)
    for flow in flows(transfers):
        if flow.reason not in _ALLOCATION_REASONS:
            continue
        if flow.destination.startswith(TOWNSHIP_PREFIX):
            allocated[account_key(flow.destination)] += flow.amount_fen
        if flow.source.startswith(TOWNSHIP_PREFIX):
            allocated[account_key(flow.source)] -= flow.amount_fen
    return dict(allocated)


def adjustment_transfers(
    transfers: Iterable[Transfer],
    eligible_counts: Mapping[str, int],
    face_value_fen: int,
    source_event_id: str,
    occurred_at: datetime,
) -> list[Transfer]:
    """Build the transfers that bring each allocation to the amended count × face value.

    Call this after the allocation was approved, with the amended counts. A township
    whose count rose gets district -> township, one whose count fell returns the
    difference, and a township missing from ``eligible_counts`` counts as zero.
    Each transfer's source id is ``<source_event_id>#<township code>``.
    """
    transfers = list(transfers)
    target = allocation_proposal(eligible_counts, face_value_fen)
    current = allocated_by_township(transfers)
    adjustments = []
    for township in sorted(set(target) | set(current)):
        change = target.get(township, 0) - current.get(township, 0)
        if change == 0:
            continue
        account = township_account(township)
        debit, credit = (DISTRICT, account) if change > 0 else (account, DISTRICT)
        adjustments.append(
            new_transfer(
                debit,
                credit,
                abs(change),
                Reason.ALLOCATION_ADJUSTMENT,
                f"{source_event_id}#{township}",
                occurred_at,
                memo="花名册更正调整分配",
            )
        )
    return adjustments


def _check_face_value(face_value_fen: int) -> None:
    if not _is_int(face_value_fen) or face_value_fen <= 0:
        raise InvalidInput(
            "invalid_face_value",
            f"面额 {face_value_fen!r} 无效：须为正整数（分）。",
        )


def _check_count(count: int, township: str) -> None:
    if not _is_int(count) or count < 0:
        raise InvalidInput(
            "invalid_eligible_count",
            f"{township} 的发放人数 {count!r} 无效：须为非负整数，请核对花名册更正。",
            township=township,
        )


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
