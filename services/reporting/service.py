"""The reporting service: a read model of the campaign built from events only."""

import logging
from datetime import date

from nameko.rpc import rpc

from aixin import events, nameko_kit
from aixin.errors import DomainError, Forbidden, InvalidInput, NotFound
from aixin.nameko_kit import CampaignClock, Storage, consume
from services.reporting import figures, history, reports, timeline
from services.reporting.access import township_scope

log = logging.getLogger(__name__)


def _parse_day(text: str | None, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("invalid_date",
                           f"{field} 的值 {text!r} 不是有效日期：请使用 YYYY-MM-DD。",
                           field=field) from None


class ReportingService(nameko_kit.HealthCheck):
    name = "reporting"

    db = Storage("reporting")
    clock = CampaignClock()

    def _record(self, session, event):
        history.record_and_apply(session, event)

    def _campaign(self, session, campaign_id: str) -> dict:
        return figures.load_campaign(session, campaign_id)

    @rpc(expected_exceptions=DomainError)
    def campaign_summary(self, actor: dict, campaign_id: str, township_code=None):
        """Return each township's figures with the district totals."""
        scope = township_scope(actor, township_code)
        with self.db.reading() as session:
            campaign = self._campaign(session, campaign_id)
            rows = figures.township_rows(session, campaign_id, scope)
            flagged = figures.open_flag_texts(session, campaign_id, scope)
        if scope and not rows:
            raise NotFound("township_not_found",
                           f"活动 {campaign_id} 中没有乡镇 {scope} 的数据。",
                           township_code=scope)
        district = {key: campaign[key] for key in (
            "funds_expected_fen", "funds_received_fen", "merchants_paid_fen",
            "district_refund_fen", "reminders_sent")}
        return {"campaign_id": campaign_id, "config": campaign["config"],
                "as_of": self.clock.now().isoformat(), "townships": rows,
                "totals": {**figures.totals_of(rows),
                           "open_flags": len(figures.distinct_flags(flagged))},
                "district": district}

    @rpc(expected_exceptions=DomainError)
    def village_progress(self, actor: dict, campaign_id: str, township_code: str,
                         with_names: bool = False):
        """Return a township's per-village figures, optionally naming the unredeemed."""
        scope = township_scope(actor, township_code)
        with self.db.reading() as session:
            self._campaign(session, campaign_id)
            villages = figures.village_rows(session, campaign_id, scope, with_names)
        return {"campaign_id": campaign_id, "township_code": scope,
                "villages": villages}

    @rpc(expected_exceptions=DomainError)
    def time_series(self, actor: dict, campaign_id: str, township_code=None):
        """Return daily hand-outs, voids and redemptions with running totals."""
        scope = township_scope(actor, township_code)
        with self.db.reading() as session:
            self._campaign(session, campaign_id)
            series = timeline.daily_series(session, campaign_id, scope)
        return {"campaign_id": campaign_id, "township_code": scope, "days": series}

    def _weekly(self, actor, campaign_id, monday, township_code) -> dict:
        scope = township_scope(actor, township_code)
        day = (_parse_day(monday, "monday")
               or timeline.latest_monday(self.clock.now().date()))
        with self.db.reading() as session:
            campaign = self._campaign(session, campaign_id)
            return reports.weekly_report(session, campaign, day, scope)

    @rpc(expected_exceptions=DomainError)
    def weekly_report(self, actor: dict, campaign_id: str, monday=None,
                      township_code=None):
        """Return the weekly report due on ``monday`` (default: the latest Monday)."""
        return self._weekly(actor, campaign_id, monday, township_code)

    @rpc(expected_exceptions=DomainError)
    def weekly_report_xlsx(self, actor: dict, campaign_id: str, monday=None,
                           township_code=None):
        report = self._weekly(actor, campaign_id, monday, township_code)
        return reports.weekly_document(report, self.clock.now())

    def _joint(self, actor, campaign_id, as_of) -> dict:
        scope = township_scope(actor, None)
        day = _parse_day(as_of, "as_of") or self.clock.now().date()
        with self.db.reading() as session:
            campaign = self._campaign(session, campaign_id)
            return reports.joint_report(session, campaign, day, scope)

    @rpc(expected_exceptions=DomainError)
    def joint_report(self, actor: dict, campaign_id: str, as_of=None):
        """Return the joint report table of every township, with totals."""
        return self._joint(actor, campaign_id, as_of)

    @rpc(expected_exceptions=DomainError)
    def joint_report_document(self, actor: dict, campaign_id: str, file_format="xlsx",
                              as_of=None):
        """Return the joint report as an XLSX or PDF document."""
        if file_format not in ("xlsx", "pdf"):
            raise InvalidInput("invalid_format",
                               f"格式 {file_format!r} 不受支持：请选择 xlsx 或 pdf。")
        report = self._joint(actor, campaign_id, as_of)
        return reports.joint_document(report, self.clock.now().date(), file_format)

    @rpc(expected_exceptions=DomainError)
    def rebuild(self, actor: dict):
        """Replay the stored event log into a freshly emptied read model."""
        if actor.get("role") not in ("admin", "system"):
            raise Forbidden("forbidden", "只有系统管理员可以重建报表数据。")
        with self.db.transaction() as session:
            result = history.rebuild(session)
        log.info("read model rebuilt by=%s events=%s", actor.get("name"),
                 result["events_replayed"])
        return result


def _add_handler(event_type: str) -> None:
    """Give the service one idempotent handler per event type sent to reporting."""
    def handler(self, session, event):
        self._record(session, event)

    handler.__name__ = events.handler_name(event_type)
    handler.__doc__ = f"Record {event_type} and apply it to the read model."
    setattr(ReportingService, handler.__name__, consume(event_type)(handler))


for _event_type in events.events_consumed_by("reporting"):
    _add_handler(_event_type)
