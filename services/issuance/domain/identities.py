"""Accounting identities that say where every printed voucher of a township is.

Per township, with every count taken from an independent source:

- printed: distinct valid serials whose township prefix is this township's;
- in stock, voided, outstanding, redeemed: vouchers recorded in that state;
- handed out: vouchers with a hand-out record (``ever_issued``) that are not voided.

Two identities must hold::

    printed    == in_stock + handed_out + voided
    handed_out == outstanding + redeemed

For each broken identity the check names the serials that make the two sides
differ: a duplicated row, a serial printed for another township, an in-stock
voucher with a hand-out record, an issued or redeemed voucher without one, or a
state the rules do not know.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from aixin.errors import InvalidInput
from aixin.vouchers import parse_serial, township_prefix
from services.issuance.domain.states import VoucherState

PRINTED_IDENTITY = "printed = in_stock + handed_out + voided"
HANDED_OUT_IDENTITY = "handed_out = outstanding + redeemed"


@dataclass(frozen=True)
class VoucherRecord:
    """One voucher as the identity check sees it."""

    serial: str
    township_code: str
    state: str
    ever_issued: bool


@dataclass(frozen=True)
class TownshipCounts:
    """The figures of both identities for one township."""

    township_code: str
    printed: int
    in_stock: int
    handed_out: int
    voided: int
    outstanding: int
    redeemed: int


@dataclass(frozen=True)
class BrokenIdentity:
    """An identity that does not hold, its two sides and the serials behind it.

    ``left`` and ``right`` are the totals, which can be equal when errors of two
    serials cancel out. ``serials`` still names both.
    """

    township_code: str
    identity: str
    left: int
    right: int
    serials: tuple[str, ...]


def check_identities(vouchers: Iterable) -> list[BrokenIdentity]:
    """Return every broken identity per township; an empty list when all hold.

    ``vouchers`` yields VoucherRecord objects or ``(serial, township_code, state,
    ever_issued)`` tuples. Raises ValueError for a township code that is not 12
    digits.
    """
    broken = []
    for township, records in sorted(_by_township(vouchers).items()):
        left, right = _printed_sides(township, records)
        broken += _compare(township, PRINTED_IDENTITY, left, right)
        left, right = _handed_out_sides(records)
        broken += _compare(township, HANDED_OUT_IDENTITY, left, right)
    return broken


def township_counts(vouchers: Iterable) -> list[TownshipCounts]:
    """Return the identity figures of each township, sorted by township code."""
    counts = []
    for township, records in sorted(_by_township(vouchers).items()):
        printed, _ = _printed_sides(township, records)
        states = Counter(_state(record) for record in records)
        counts.append(
            TownshipCounts(
                township_code=township,
                printed=sum(printed.values()),
                in_stock=states[VoucherState.IN_STOCK],
                handed_out=sum(_is_handed_out(record) for record in records),
                voided=states[VoucherState.VOIDED],
                outstanding=states[VoucherState.ISSUED],
                redeemed=states[VoucherState.REDEEMED],
            )
        )
    return counts


def _by_township(vouchers: Iterable) -> dict[str, list[VoucherRecord]]:
    grouped = defaultdict(list)
    for row in vouchers:
        record = row if isinstance(row, VoucherRecord) else VoucherRecord(*row)
        grouped[record.township_code].append(record)
    return grouped


def _printed_sides(township: str, records: list[VoucherRecord]):
    """Count each serial's contribution to the left and right of the first identity."""
    prefix = township_prefix(township)
    printed = Counter()
    placed = Counter()
    for record in records:
        printed[record.serial] = int(_serial_prefix(record.serial) == prefix)
        placed[record.serial] += _state(record) in _PLACED_STATES
        placed[record.serial] += _is_handed_out(record)
    return printed, placed


def _handed_out_sides(records: list[VoucherRecord]):
    handed_out = Counter()
    in_hands = Counter()
    for record in records:
        handed_out[record.serial] += _is_handed_out(record)
        in_hands[record.serial] += _state(record) in _IN_HANDS_STATES
    return handed_out, in_hands


def _compare(township: str, identity: str, left: Counter, right: Counter) -> list:
    serials = sorted(
        serial
        for serial in set(left) | set(right)
        if left[serial] != right[serial]
    )
    if not serials:
        return []
    return [
        BrokenIdentity(
            township_code=township,
            identity=identity,
            left=sum(left.values()),
            right=sum(right.values()),
            serials=tuple(serials),
        )
    ]


# States counted on the right of the first identity besides "handed out".
_PLACED_STATES = frozenset({VoucherState.IN_STOCK, VoucherState.VOIDED})
_IN_HANDS_STATES = frozenset({VoucherState.ISSUED, VoucherState.REDEEMED})


def _state(record: VoucherRecord) -> VoucherState | None:
    try:
        return VoucherState(record.state)
    except ValueError:
        return None


def _is_handed_out(record: VoucherRecord) -> bool:
    return bool(record.ever_issued) and _state(record) is not VoucherState.VOIDED


def _serial_prefix(serial: str) -> str | None:
    try:
        return parse_serial(serial).township_prefix
    except InvalidInput:
        return None
