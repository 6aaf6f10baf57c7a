"""Print-run sizing and the serial sequences a run takes."""

from decimal import Decimal, InvalidOperation
from fractions import Fraction

from aixin.vouchers import MAX_SEQUENCE
from services.issuance.domain.errors import PrintRunTooLarge


def print_run_size(eligible_count: int, spare_percent: int | Decimal | str) -> int:
    """Return how many vouchers to print: the eligible count plus a spare share.

    The spare share is ``spare_percent`` of the eligible count, rounded up to a
    whole voucher, so 1001 eligible with 1 percent spare gives 1001 + 11. The
    percentage may be fractional ("2.5"); floats are rejected because 0.1 is not
    exact in binary. Raises ValueError for a negative count or a percentage
    outside 0 to 100.
    """
    if not isinstance(eligible_count, int) or isinstance(eligible_count, bool):
        raise ValueError(f"invalid eligible count {eligible_count!r}: expected an int")
    if eligible_count < 0:
        raise ValueError(f"invalid eligible count {eligible_count}: must be >= 0")
    share = _parse_percent(spare_percent)
    spare = Fraction(eligible_count) * share / 100
    return eligible_count + _ceil(spare)


def next_sequences(last_sequence: int, count: int) -> range:
    """Return the sequences of a new run that follows ``last_sequence`` (0 for none).

    Raises PrintRunTooLarge when the run would pass the last sequence a serial can
    carry (999999 per township and campaign).
    """
    if count < 0 or last_sequence < 0:
        raise ValueError(f"invalid run: last {last_sequence}, count {count}")
    if last_sequence + count > MAX_SEQUENCE:
        raise PrintRunTooLarge(
            count=count, maximum=MAX_SEQUENCE, last_sequence=last_sequence
        )
    return range(last_sequence + 1, last_sequence + count + 1)


def _parse_percent(value) -> Fraction:
    if isinstance(value, (float, bool)):
        raise ValueError(
            f"invalid spare percent {value!r}: use an int or a decimal string"
        )
    try:
        share = Fraction(Decimal(str(value).strip()))
    except (InvalidOperation, ValueError, OverflowError):
        raise ValueError(
            f"invalid spare percent {value!r}: expected a number"
        ) from None
    if not 0 <= share <= 100:
        raise ValueError(f"invalid spare percent {value}: expected 0 to 100")
    return share


def _ceil(value: Fraction) -> int:
    return -(-value.numerator // value.denominator)
