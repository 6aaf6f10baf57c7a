"""The reminder schedule derived from a campaign's dates.

Every reminder falls due at a fixed local hour of its occurrence date. An
occurrence names its audience; the recipients inside an audience (townships, village
committees) are resolved when it is sent, from the figures current at that moment.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from aixin.clock import CAMPAIGN_TZ

REMINDER_HOUR = 9
HANDOUT_DAYS_BEFORE_FESTIVAL = 7
FUNDS_DAYS_BEFORE = (3, 1)
REDEMPTION_DAYS_BEFORE = (14, 7, 3)
CLEARING_DAYS_BEFORE = 3

# Audiences: one bureau or several, every township, or every village committee.
FINANCE = "finance"
BUREAUS = "bureaus"
TOWNSHIPS = "townships"
TOWNSHIPS_AND_BUREAUS = "townships_bureaus"
VILLAGES = "villages"

# Kinds that recur. When a newer occurrence of one of these is due too, the older
# one is skipped: its text counts days and reports figures that are out of date.
RECURRING = frozenset({"funds_due", "handout", "weekly_report", "redemption_deadline"})


@dataclass(frozen=True)
class Occurrence:
    kind: str
    occurrence_date: date
    due_at: datetime
    audience: str


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=CAMPAIGN_TZ)


def mondays_between(first: date, last: date) -> list[date]:
    """Return every Monday in ``first`` .. ``last``, both included."""
    day = first + timedelta(days=(7 - first.weekday()) % 7)
    mondays = []
    while day <= last:
        mondays.append(day)
        day += timedelta(days=7)
    return mondays


def derive_schedule(config: dict, created_on: date,
                    hour: int = REMINDER_HOUR) -> list[Occurrence]:
    """Return every reminder occurrence of a campaign, in date order.

    Weekly-report reminders run from the first Monday after the campaign was created
    to the first Monday after the redemption deadline, which reports its last week.
    """
    plan: list[tuple[str, date, str]] = []
    for days in FUNDS_DAYS_BEFORE:
        plan.append(("funds_due", config["funds_due"] - timedelta(days=days), FINANCE))
    festival = config["spring_festival"]
    for days in range(HANDOUT_DAYS_BEFORE_FESTIVAL, -1, -1):
        plan.append(("handout", festival - timedelta(days=days), TOWNSHIPS))
    deadline = config["redemption_deadline"]
    last_monday = deadline + timedelta(days=7 - deadline.weekday())
    for monday in mondays_between(created_on + timedelta(days=1), last_monday):
        plan.append(("weekly_report", monday, TOWNSHIPS_AND_BUREAUS))
    for days in REDEMPTION_DAYS_BEFORE:
        plan.append(("redemption_deadline", deadline - timedelta(days=days), VILLAGES))
    plan.append(("joint_audit", config["joint_audit_date"], BUREAUS))
    clearing_day = config["clearing_deadline"] - timedelta(days=CLEARING_DAYS_BEFORE)
    plan.append(("clearing", clearing_day, FINANCE))
    return sorted((Occurrence(kind, day, _at(day, hour), audience)
                   for kind, day, audience in plan),
                  key=lambda item: (item.due_at, item.kind))


def newest_due(due: list) -> dict:
    """Return, for each older due occurrence of a recurring kind, the newest one.

    ``due`` holds rows with ``campaign_id``, ``kind`` and ``occurrence_date``. The
    result maps ``(campaign_id, kind, occurrence_date)`` of every superseded
    occurrence to the date of the newest due occurrence of its campaign and kind.
    """
    newest: dict = {}
    for row in due:
        if row.kind in RECURRING:
            key = (row.campaign_id, row.kind)
            newest[key] = max(newest.get(key, row.occurrence_date), row.occurrence_date)
    return {(row.campaign_id, row.kind, row.occurrence_date):
            newest[(row.campaign_id, row.kind)]
            for row in due if row.kind in RECURRING
            and row.occurrence_date < newest[(row.campaign_id, row.kind)]}


def superseded_reason(kind: str, newer: date) -> str:
    """Return why a reminder was not sent: a newer one of its kind replaced it."""
    return (f"superseded: the {kind} reminder of {newer.isoformat()} is due too and "
            "carries the current figures")
