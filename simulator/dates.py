"""Campaign dates derived from the roster snapshot month, as in the 2022-23 plan.

Funds reach the district nine days before Spring Festival, redemption ends on the last
day of the month after Spring Festival, the joint audit falls on the sixth of the month
after that, and clearing ends on that month's last day. For a December 2022 snapshot
that gives 2023-01-13, 2023-02-28, 2023-03-06 and 2023-03-31.
"""

import calendar as month_calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from aixin.clock import CAMPAIGN_TZ
from services.redemption.domain.campaign import first_of_month, spring_festival_after


@dataclass(frozen=True)
class CampaignDates:
    snapshot_month: str
    funds_due: date
    spring_festival: date
    redemption_deadline: date
    joint_audit_date: date
    clearing_deadline: date

    def as_payload(self) -> dict:
        return {name: (value.isoformat() if isinstance(value, date) else value)
                for name, value in self.__dict__.items()}


def _last_day(year: int, month: int) -> date:
    return date(year, month, month_calendar.monthrange(year, month)[1])


def _next_month(day: date) -> tuple[int, int]:
    return (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)


def campaign_dates(snapshot_month: str) -> CampaignDates:
    festival = spring_festival_after(first_of_month(snapshot_month))
    deadline = _last_day(*_next_month(festival))
    audit_year, audit_month = _next_month(deadline)
    return CampaignDates(
        snapshot_month=snapshot_month,
        funds_due=festival - timedelta(days=9),
        spring_festival=festival,
        redemption_deadline=deadline,
        joint_audit_date=date(audit_year, audit_month, 6),
        clearing_deadline=_last_day(audit_year, audit_month),
    )


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=CAMPAIGN_TZ)


def days_between(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
