"""Current figures from the reporting service, fetched over RPC at send time.

Callers must not hold a database transaction while fetching. Any failure raises
``FiguresUnavailable``, and the reminder waits for the next run: a reminder is never
sent without its figures.
"""

import logging
import time

import eventlet
from nameko.exceptions import RemoteError, UnknownService

from aixin.errors import DomainError
from aixin.nameko_kit import RPC_DEADLINE_KEY

log = logging.getLogger(__name__)

SYSTEM_ACTOR = {"role": "system", "scope": None, "name": "notify", "token_id": None}
RPC_TIMEOUT_S = 10


class FiguresUnavailable(Exception):
    """Reporting could not supply the figures of a reminder yet."""


class ReportingClient:
    def __init__(self, proxy, timeout: float = RPC_TIMEOUT_S):
        self.proxy = proxy
        self.timeout = timeout

    def call(self, method: str, *args, **kwargs):
        self._stamp_deadline()
        try:
            with eventlet.Timeout(self.timeout):
                reply = getattr(self.proxy, method).call_async(SYSTEM_ACTOR, *args,
                                                               **kwargs)
                return reply.result()
        except eventlet.Timeout:
            raise FiguresUnavailable(f"reporting.{method} timed out after "
                                     f"{self.timeout}s") from None
        except (UnknownService, RemoteError, DomainError, OSError) as error:
            raise FiguresUnavailable(f"reporting.{method} failed: {error}") from error

    def _stamp_deadline(self) -> None:
        """Give the request the deadline of this wait (or the caller's, if sooner).

        nameko sends the worker's context data as headers, and reporting drops a
        request that arrives after its deadline (``aixin.nameko_kit``), so requests
        queued while reporting was down do not all run when it comes back.
        """
        context = getattr(getattr(self.proxy, "worker_ctx", None), "data", None)
        if not isinstance(context, dict):
            return  # not a nameko proxy: nothing carries the deadline
        deadline = time.time() + self.timeout
        earlier = context.get(RPC_DEADLINE_KEY)
        if earlier is not None:
            try:
                deadline = min(deadline, float(earlier))
            except (TypeError, ValueError):
                pass
        context[RPC_DEADLINE_KEY] = deadline


def _only_known(rows: list, key: str, townships: dict, what: str) -> list:
    """Keep the rows of ``townships``; raise if reporting lacks one of them."""
    by_code = {row[key]: row for row in rows}
    missing = sorted(set(townships) - set(by_code))
    if missing:
        raise FiguresUnavailable(f"reporting has no {what} for townships {missing} yet")
    return [by_code[code] for code in sorted(townships)]


def fetch(client: ReportingClient, kind: str, campaign_id: str, day,
          townships: dict):
    """Return the figures that the composer of ``kind`` needs."""
    if kind == "weekly_report":
        report = client.call("weekly_report", campaign_id, monday=day.isoformat())
        report["rows"] = _only_known(report["rows"], "unit", townships,
                                     "weekly figures")
        return report
    if kind == "redemption_deadline":
        villages = {}
        for code, name in sorted(townships.items()):
            progress = client.call("village_progress", campaign_id, code)
            villages[code] = (name, progress["villages"])
        return villages
    summary = client.call("campaign_summary", campaign_id)
    if kind == "handout":
        summary["townships"] = _only_known(summary["townships"], "code", townships,
                                           "figures")
    return summary
