"""Rules checked when a voucher is handed out."""

from collections.abc import Iterable
from datetime import date, datetime

from aixin.clock import as_local, end_of_day
from aixin.vouchers import parse_serial, township_prefix
from services.issuance.domain.errors import (
    BeneficiaryAlreadyHasVoucher,
    FundsNotAllocated,
    HandoutAfterDeadline,
    SerialOfOtherCampaign,
    SerialOfOtherTownship,
)
from services.issuance.domain.states import VoucherState


def check_handout_time(
    at: datetime, spring_festival: date, redemption_deadline: date
) -> bool:
    """Return True when a hand-out at ``at`` is late, False when it is on time.

    A hand-out after the end of Spring Festival day is allowed but reported as
    late. After the end of the redemption deadline day it raises
    HandoutAfterDeadline, because the voucher could no longer be spent.
    """
    local = as_local(at)
    if local > end_of_day(redemption_deadline):
        raise HandoutAfterDeadline(deadline=redemption_deadline.isoformat())
    return local > end_of_day(spring_festival)


def check_funds_allocated(allocated_fen: int) -> None:
    """Raise FundsNotAllocated unless the township has received its allocation."""
    if allocated_fen <= 0:
        raise FundsNotAllocated()


def check_serial_belongs(serial: str, campaign_no: int, township_code12: str) -> None:
    """Raise unless the serial was printed for this campaign and township.

    Raises InvalidInput (``invalid_serial``) for a malformed serial,
    SerialOfOtherCampaign or SerialOfOtherTownship for a valid foreign one.
    """
    parts = parse_serial(serial)
    if parts.campaign_no != campaign_no:
        raise SerialOfOtherCampaign(serial=serial)
    if parts.township_prefix != township_prefix(township_code12):
        raise SerialOfOtherTownship(serial=serial)


def check_beneficiary_free(previous: Iterable[tuple[str, str]]) -> None:
    """Raise BeneficiaryAlreadyHasVoucher if the person holds a live voucher.

    ``previous`` lists ``(serial, state)`` of every voucher handed to the person
    before. Only voided vouchers leave room for another. Whether a void allows a
    replacement (lost or damaged) or the person is entitled at all is decided by
    the caller from the void reason and the roster.
    """
    for serial, state in previous:
        if VoucherState(state) is not VoucherState.VOIDED:
            raise BeneficiaryAlreadyHasVoucher(serial=serial)
