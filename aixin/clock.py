"""The campaign clock: the one source of the current time for every service.

Production services read the system clock. A simulated campaign points every process
at one clock file, which the gateway's clock endpoint moves forward, so a whole
campaign replays in seconds and tests can stand at any moment.
"""

import json
import os
import threading
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

CAMPAIGN_TZ = ZoneInfo("Asia/Shanghai")


def end_of_day(day: date) -> datetime:
    """Return the last instant of ``day`` in local time: a deadline "by day"."""
    return datetime.combine(day, time.max, tzinfo=CAMPAIGN_TZ)


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CAMPAIGN_TZ)


def as_local(moment: datetime) -> datetime:
    """Convert an aware datetime to campaign local time; reject naive ones."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: a time zone is required")
    return moment.astimezone(CAMPAIGN_TZ)


class ClockNotSet(RuntimeError):
    """A simulated clock whose time has not been set yet."""


class SystemClock:
    """Wall-clock time in Asia/Shanghai."""

    simulated = False

    def now(self) -> datetime:
        return datetime.now(CAMPAIGN_TZ)


class FixedClock:
    """A clock that stands still until moved: for unit tests."""

    simulated = True

    def __init__(self, moment: datetime):
        self._moment = as_local(moment)

    def now(self) -> datetime:
        return self._moment

    def set(self, moment: datetime) -> None:
        self._moment = as_local(moment)

    def advance(self, delta: timedelta) -> None:
        self._moment += delta


class FileClock:
    """Simulated time shared by every process through one small JSON file.

    The file contains ``{"now": "<ISO 8601 with offset>"}``. Time stands still between
    writes, so every process sees the same instant. Writes replace the file atomically,
    so a reader never sees half a file.
    """

    simulated = True

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._cache: tuple[float, datetime] | None = None

    def now(self) -> datetime:
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            raise ClockNotSet(
                f"campaign clock file {self.path} does not exist: set the time first "
                "(PUT /v1/clock on the gateway) or run with AIXIN_CLOCK=system"
            ) from None
        with self._lock:
            if self._cache and self._cache[0] == mtime:
                return self._cache[1]
            moment = as_local(datetime.fromisoformat(json.loads(self.path.read_text())["now"]))
            self._cache = (mtime, moment)
            return moment

    def set(self, moment: datetime) -> None:
        moment = as_local(moment)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"now": moment.isoformat()}))
        os.replace(temporary, self.path)


def clock_from_spec(spec: str | None):
    """Build the clock named by ``AIXIN_CLOCK``: ``system`` or ``file:/path/clock.json``."""
    spec = (spec or "system").strip()
    if spec == "system":
        return SystemClock()
    if spec.startswith("file:"):
        return FileClock(spec[len("file:"):])
    raise ValueError(f"invalid AIXIN_CLOCK {spec!r}: use 'system' or 'file:/path/clock.json'")
