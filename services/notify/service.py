"""The notify service: reminders of every campaign deadline, sent once each."""

import logging

from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy, rpc
from nameko.timer import timer

from aixin import nameko_kit
from aixin.clock import ClockNotSet
from aixin.errors import DomainError, Forbidden
from aixin.nameko_kit import CampaignClock, Storage, consume
from services.notify import inbox_reads, schedule_store, sender
from services.notify.attachments import ReportAttachments
from services.notify.channels import Recipients, build_channels
from services.notify.figures import ReportingClient

log = logging.getLogger(__name__)

TIMER_INTERVAL_S = 5
SCHEDULE_READERS = {"admin", "commerce", "finance", "civil_affairs", "leading_group",
                    "township", "system"}


class NotifyService(nameko_kit.HealthCheck):
    name = "notify"

    db = Storage("notify")
    clock = CampaignClock()
    reporting = RpcProxy("reporting")
    config = Config()

    @consume("campaign_created")
    def on_campaign_created(self, session, event):
        count = schedule_store.store_campaign(session, event.data, event.occurred_at)
        log.info("reminder schedule stored campaign_id=%s occurrences=%s",
                 event.data["campaign_id"], count)

    @consume("roster_publication_completed")
    def on_roster_publication_completed(self, session, event):
        schedule_store.store_townships(session, event.data)

    def _send_due(self) -> dict:
        client = ReportingClient(
            self.reporting, float(self.config.get("NOTIFY_REPORTING_TIMEOUT_S", 10)))
        channels = build_channels(self.db, self.config, ReportAttachments(client))
        recipients = Recipients(self.config.get("NOTIFY_RECIPIENTS"), set(channels))
        return sender.send_due(self.db, self.clock, client, channels, recipients)

    @timer(interval=TIMER_INTERVAL_S)
    def send_due_on_timer(self):
        try:
            result = self._send_due()
        except ClockNotSet:
            # A simulation that has not set its clock yet: nothing can be due.
            return
        except Exception:  # noqa: BLE001 - the next tick tries again
            log.exception("sending due reminders failed")
            return
        if result["claimed"] or result["sent"] or result["failed"]:
            log.info("due reminders claimed=%s sent=%s failed=%s", result["claimed"],
                     result["sent"], result["failed"])

    @rpc(expected_exceptions=DomainError)
    def send_due_reminders(self):
        """Send every reminder due on the campaign clock now; return the counts."""
        return self._send_due()

    @rpc(expected_exceptions=DomainError)
    def inbox(self, actor: dict, campaign_id=None, limit=100, offset=0):
        """Return the caller's inbox messages, newest first."""
        with self.db.reading() as session:
            return inbox_reads.read_inbox(session, actor, campaign_id, limit, offset)

    @rpc(expected_exceptions=DomainError)
    def deliveries(self, actor: dict, status=None, limit=100, offset=0):
        """Return the delivery log: every message, channel, status and attempt count."""
        if actor.get("role") not in ("admin", "commerce", "system"):
            raise Forbidden("forbidden", "只有系统管理员和区商务局可以查看提醒发送记录。")
        with self.db.reading() as session:
            return inbox_reads.read_deliveries(session, status, limit, offset)

    @rpc(expected_exceptions=DomainError)
    def schedule(self, actor: dict, campaign_id: str):
        """Return a campaign's reminder occurrences and whether each was sent."""
        if actor.get("role") not in SCHEDULE_READERS:
            raise Forbidden("forbidden", "您的角色无权查看提醒计划。")
        with self.db.reading() as session:
            return {"campaign_id": campaign_id,
                    "occurrences": schedule_store.list_schedule(session, campaign_id)}
