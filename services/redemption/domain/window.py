"""The redemption window: from the voucher's hand-out to the end of the deadline day."""

from datetime import date, datetime

from aixin.clock import as_local, end_of_day
from services.redemption.domain.reasons import rejection


def check_redemption_window(
    at: datetime, serial: str, issued_at: datetime | None, deadline: date
) -> None:
    """Raise unless a redemption at ``at`` falls inside the voucher's window.

    Raises the DomainError of ``voucher_not_issued`` when the voucher has no
    hand-out time or was handed out after ``at``, and of
    ``redemption_deadline_passed`` after 23:59:59 local time on ``deadline``.
    Naive datetimes raise ValueError.
    """
    local = as_local(at)
    if issued_at is None or local < as_local(issued_at):
        raise rejection("voucher_not_issued", serial=serial)
    if local > end_of_day(deadline):
        raise rejection("redemption_deadline_passed", deadline=deadline.isoformat())
