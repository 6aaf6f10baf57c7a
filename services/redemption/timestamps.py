"""Datetimes in this service's database, which may be SQLite.

SQLite keeps no UTC offset, so every datetime is stored in campaign local time and a
naive value read back is campaign local time too.
"""

from datetime import datetime

from aixin.clock import CAMPAIGN_TZ, as_local


def for_storage(moment: datetime | None) -> datetime | None:
    """Convert an aware datetime to campaign local time before it is stored."""
    return None if moment is None else as_local(moment)


def aware(moment: datetime | None) -> datetime | None:
    """Return a stored datetime as an aware campaign local time."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=CAMPAIGN_TZ)
    return as_local(moment)
