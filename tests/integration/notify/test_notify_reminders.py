"""Reminders fall due once on the campaign clock, survive restarts, never repeat."""

import eventlet
import pytest
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import func, select

from aixin import events
from aixin.clock import FileClock
from aixin.db import Database
from aixin.outbox import BrokerPublisher, build_event
from services.notify.channels import DeliveryFailed, InboxChannel, Recipients
from services.notify.figures import ReportingClient
from services.notify.models import claims, deliveries, inbox
from services.notify.sender import claim_due, deliver_pending
from services.notify.service import NotifyService
from services.reporting.service import ReportingService
from tests.integration.reporting.campaign_events import (CAMPAIGN_ID, EAST, WEST, at,
                                                         campaign_events)

ADMIN = {"role": "admin", "scope": None, "name": "admin"}


def wait_for(predicate, timeout: float = 20.0):
    with eventlet.Timeout(timeout):
        while True:
            value = predicate()
            if value:
                return value
            eventlet.sleep(0.1)


def scalar(url: str, query):
    database = Database(url)
    with database.reading() as session:
        value = session.execute(query).scalar()
    database.dispose()
    return value


def inbox_rows(url: str) -> list:
    database = Database(url)
    with database.reading() as session:
        rows = session.execute(select(inbox.c.recipient, inbox.c.kind, inbox.c.body)
                               .order_by(inbox.c.id)).all()
    database.dispose()
    return rows


def delivery_rows(url: str, status: str) -> list:
    database = Database(url)
    with database.reading() as session:
        rows = session.execute(select(deliveries).where(deliveries.c.status == status)
                               .order_by(deliveries.c.occurrence_date)).all()
    database.dispose()
    return rows


def kinds_for(url: str, recipient: str) -> list:
    return [row.kind for row in inbox_rows(url) if row.recipient == recipient]


# Hand-outs and redemptions only up to mid-January, so reminders have work to do.
EARLY_EVENTS = [item for item in campaign_events()
                if item[0] not in ("voucher_issued", "voucher_redeemed",
                                   "redemptions_audited", "township_cleared")
                or item[1].get("serial") in ("E1", "W1")]


@pytest.fixture
def campaign(runner_factory, amqp_uri, database_url_for, tmp_path):
    clock = FileClock(tmp_path / "clock.json")
    clock.set(at(1, 9, 8))
    config = {"AMQP_URI": amqp_uri, "AIXIN_CLOCK": f"file:{clock.path}",
              "REPORTING_DATABASE_URL": database_url_for("reporting"),
              "NOTIFY_DATABASE_URL": database_url_for("notify"),
              "NOTIFY_REPORTING_TIMEOUT_S": 2}
    reporting = runner_factory(config, ReportingService)
    reporting.start()
    notify = runner_factory(config, NotifyService)
    notify.start()
    publishers = {}
    for event_type, data in EARLY_EVENTS:
        producer = events.spec_of(event_type).producer
        publisher = publishers.setdefault(producer, BrokerPublisher(amqp_uri, producer))
        publisher.publish(build_event(event_type, data, at(1, 9, 8)))
    for publisher in publishers.values():
        publisher.close()
    with ServiceRpcProxy("notify", config) as proxy:
        wait_for(lambda: len(proxy.schedule(ADMIN, CAMPAIGN_ID)["occurrences"]) > 0)
        wait_for(lambda: proxy.send_due_reminders() is not None)
        with ServiceRpcProxy("reporting", config) as reports:
            wait_for(lambda: reports.campaign_summary(ADMIN, CAMPAIGN_ID)["totals"][
                "issued"] == 2)
        yield {"proxy": proxy, "clock": clock, "config": config, "reporting": reporting,
               "notify": notify, "url": config["NOTIFY_DATABASE_URL"],
               "runner_factory": runner_factory}


class TestReminders:
    def test_schedule_from_campaign_dates(self, campaign):
        schedule = campaign["proxy"].schedule(ADMIN, CAMPAIGN_ID)["occurrences"]
        dates = {(item["kind"], item["occurrence_date"]) for item in schedule}
        assert ("funds_due", "2023-01-10") in dates
        assert ("funds_due", "2023-01-12") in dates
        assert ("handout", "2023-01-15") in dates
        assert ("handout", "2023-01-22") in dates
        assert ("weekly_report", "2023-01-16") in dates
        assert ("weekly_report", "2023-03-06") in dates
        assert ("redemption_deadline", "2023-02-14") in dates
        assert ("joint_audit", "2023-03-06") in dates
        assert ("clearing", "2023-03-28") in dates
        assert all(item["due_at"].endswith("09:00:00+08:00") for item in schedule)

    def test_reminders_fall_due_once(self, campaign):
        proxy, clock, url = campaign["proxy"], campaign["clock"], campaign["url"]
        clock.set(at(1, 10, 8, 59))
        proxy.send_due_reminders()
        assert kinds_for(url, "bureau:finance") == []
        clock.set(at(1, 10, 9))
        proxy.send_due_reminders()
        proxy.send_due_reminders()
        assert kinds_for(url, "bureau:finance") == ["funds_due"]
        clock.set(at(1, 12, 9, 30))
        proxy.send_due_reminders()
        assert kinds_for(url, "bureau:finance") == ["funds_due", "funds_due"]
        clock.set(at(1, 15, 9))
        proxy.send_due_reminders()
        east = [row for row in inbox_rows(url) if row.recipient == f"township:{EAST}"]
        assert [row.kind for row in east] == ["handout"]
        assert "尚有 2 张" in east[0].body
        assert len(kinds_for(url, f"township:{WEST}")) == 1

    def test_concurrent_runs_send_once(self, campaign):
        clock, url = campaign["clock"], campaign["url"]
        clock.set(at(1, 16, 9))

        def send():
            with ServiceRpcProxy("notify", campaign["config"]) as own_proxy:
                return own_proxy.send_due_reminders()

        pile = eventlet.GreenPile()
        for _ in range(6):
            pile.spawn(send)
        list(pile)
        rows = inbox_rows(url)
        keys = sorted((row.recipient, row.kind) for row in rows)
        # Funds due on 12 January (the 10th is superseded), hand-out on 16 January
        # (the 15th is superseded), one weekly report per township and bureau.
        assert keys == sorted([("bureau:finance", "funds_due")] + [
            (f"township:{code}", kind) for code in (EAST, WEST)
            for kind in ("handout", "weekly_report")] + [
            (f"bureau:{role}", "weekly_report") for role in ("commerce", "finance")])
        sent = scalar(url, select(func.count()).select_from(deliveries)
                      .where(deliveries.c.status == "sent"))
        assert sent == len(rows)
        skipped = scalar(url, select(func.count()).select_from(deliveries)
                         .where(deliveries.c.status == "skipped"))
        assert skipped == 3
        claimed = scalar(url, select(func.count()).select_from(claims))
        assert claimed == len(rows) + skipped

    def test_restart_sends_what_fell_due(self, campaign):
        clock, url = campaign["clock"], campaign["url"]
        campaign["notify"].stop()
        clock.set(at(1, 16, 10))
        campaign["runner_factory"](campaign["config"], NotifyService).start()
        # The restarted service sends to one recipient after another: wait for both.
        wait_for(lambda: all("weekly_report" in kinds_for(url, f"township:{township}")
                             for township in (EAST, WEST))
                 and "handout" in kinds_for(url, f"township:{EAST}"), timeout=30)
        body = [row.body for row in inbox_rows(url)
                if row.kind == "weekly_report" and row.recipient == f"township:{WEST}"]
        assert len(body) == 1
        assert "上周发放 1 张，核销 1 张、250.00 元" in body[0]
        # Of the two hand-out reminders that fell due while it was down, the newer.
        assert kinds_for(url, f"township:{EAST}").count("handout") == 1

    def test_clock_jump_sends_only_the_newest_weekly(self, campaign):
        proxy, clock, url = campaign["proxy"], campaign["clock"], campaign["url"]
        clock.set(at(2, 13, 9, 30))
        proxy.send_due_reminders()
        weekly = [row for row in inbox_rows(url) if row.kind == "weekly_report"]
        assert sorted(row.recipient for row in weekly) == sorted(
            [f"township:{EAST}", f"township:{WEST}", "bureau:commerce",
             "bureau:finance"])
        district = next(row.body for row in weekly if row.recipient == "bureau:finance")
        assert "2023-02-06 至 2023-02-12" in district
        assert "weekly.xlsx?monday=2023-02-13" in district
        skipped = delivery_rows(url, status="skipped")
        # Four Mondays from 16 January to 6 February, for two townships and two bureaus.
        assert {(row.kind, row.occurrence_date.isoformat()) for row in skipped
                if row.kind == "weekly_report"} == {
            ("weekly_report", day) for day in ("2023-01-16", "2023-01-23",
                                               "2023-01-30", "2023-02-06")}
        assert len([row for row in skipped if row.kind == "weekly_report"]) == 16
        assert all("superseded: the weekly_report reminder of 2023-02-13" in row.reason
                   for row in skipped if row.kind == "weekly_report")
        # The hand-out reminders before Spring Festival went the same way.
        assert kinds_for(url, f"township:{WEST}").count("handout") == 1
        proxy.send_due_reminders()
        assert len([row for row in inbox_rows(url) if row.kind == "weekly_report"]) == 4
        log = proxy.deliveries(ADMIN, status="skipped", limit=500)["deliveries"]
        assert len(log) == len(skipped)
        assert all(row["reason"].startswith("superseded") for row in log)

    def test_waits_for_reporting(self, campaign):
        proxy, clock, url = campaign["proxy"], campaign["clock"], campaign["url"]
        campaign["reporting"].stop()
        clock.set(at(2, 14, 9))
        result = proxy.send_due_reminders()
        assert result["claimed"] == 0
        assert not [row for row in inbox_rows(url) if row.kind == "redemption_deadline"]
        # Back to before the reminder falls due, so that notify's timer cannot send it
        # while the late hand-out below is still on its way to reporting.
        clock.set(at(2, 14, 8))
        campaign["runner_factory"](campaign["config"], ReportingService).start()
        late_issue = next(data for kind, data in campaign_events()
                          if kind == "voucher_issued" and data["serial"] == "E2")
        publisher = BrokerPublisher(campaign["config"]["AMQP_URI"], "issuance")
        publisher.publish(build_event("voucher_issued", late_issue, at(1, 16)))
        publisher.close()
        with ServiceRpcProxy("reporting", campaign["config"]) as reports:
            wait_for(lambda: reports.campaign_summary(ADMIN, CAMPAIGN_ID)["totals"][
                "issued"] == 3)
        clock.set(at(2, 14, 9))
        proxy.send_due_reminders()
        villages = {row.recipient: row.body for row in inbox_rows(url)
                    if row.kind == "redemption_deadline"}
        assert list(villages) == [f"village:{EAST}:东村"]
        assert "尚有 1 名" in villages[f"village:{EAST}:东村"]


class FlakyChannel:
    name = "inbox"

    def __init__(self, inner, failures: int):
        self.inner = inner
        self.failures = failures

    def deliver(self, delivery, address, now):
        if self.failures:
            self.failures -= 1
            raise DeliveryFailed("simulated outage")
        self.inner.deliver(delivery, address, now)


class DirectReporting:
    """Reporting through a standalone proxy, shaped like nameko's RpcProxy."""

    def __init__(self, proxy):
        self.proxy = proxy

    def __getattr__(self, name):
        method = getattr(self.proxy, name)

        class Reply:
            def __init__(self, *args, **kwargs):
                self.args, self.kwargs = args, kwargs

            def result(self):
                return method(*self.args, **self.kwargs)

        return type("Method", (), {"call_async": staticmethod(Reply)})


def test_failed_delivery_is_retried(campaign):
    clock, url = campaign["clock"], campaign["url"]
    campaign["notify"].stop()
    database = Database(url)
    recipients = Recipients({}, {"inbox"})
    clock.set(at(1, 10, 9))
    with ServiceRpcProxy("reporting", campaign["config"]) as reports:
        client = ReportingClient(DirectReporting(reports))
        assert claim_due(database, client, recipients, clock.now()) == 1
    channel = FlakyChannel(InboxChannel(database), failures=1)
    outcome = deliver_pending(database, {"inbox": channel}, recipients, clock)
    assert outcome == {"sent": 0, "failed": 1}
    # The retry waits for its backoff on the campaign clock.
    outcome = deliver_pending(database, {"inbox": channel}, recipients, clock)
    assert outcome == {"sent": 0, "failed": 0}
    clock.set(at(1, 10, 9, 2))
    outcome = deliver_pending(database, {"inbox": channel}, recipients, clock)
    assert outcome == {"sent": 1, "failed": 0}
    database.dispose()
    assert kinds_for(url, "bureau:finance") == ["funds_due"]


class FailingFor(FlakyChannel):
    """An inbox channel that always fails for one recipient."""

    def __init__(self, inner, recipient: str):
        super().__init__(inner, failures=0)
        self.recipient = recipient

    def deliver(self, delivery, address, now):
        if delivery.recipient == self.recipient:
            raise DeliveryFailed("simulated outage of one recipient's inbox")
        self.inner.deliver(delivery, address, now)


def test_retry_superseded_by_newer_reminder_is_skipped(campaign):
    clock, url = campaign["clock"], campaign["url"]
    campaign["notify"].stop()
    database = Database(url)
    recipients = Recipients({}, {"inbox"})
    channel = FailingFor(InboxChannel(database), f"township:{WEST}")
    with ServiceRpcProxy("reporting", campaign["config"]) as reports:
        client = ReportingClient(DirectReporting(reports))
        clock.set(at(1, 16, 9))
        claim_due(database, client, recipients, clock.now())
        assert deliver_pending(database, {"inbox": channel}, recipients,
                               clock)["failed"] == 2  # West's hand-out and weekly
        # A week later West's inbox works again: only the newer reminders arrive.
        clock.set(at(1, 23, 9))
        channel.recipient = None
        claim_due(database, client, recipients, clock.now())
        deliver_pending(database, {"inbox": channel}, recipients, clock)
    database.dispose()
    assert sorted(kinds_for(url, f"township:{WEST}")) == ["handout", "weekly_report"]
    west = {row.kind: row.body for row in inbox_rows(url)
            if row.recipient == f"township:{WEST}"}
    assert "2023-01-16 至 2023-01-22" in west["weekly_report"]
    assert "距春节（2023-01-22）还有 0 天" in west["handout"]
    skipped = {(row.kind, row.recipient, row.occurrence_date.isoformat()): row.reason
               for row in delivery_rows(url, status="skipped")}
    assert skipped[("weekly_report", f"township:{WEST}", "2023-01-16")] == (
        "superseded: the weekly_report reminder of 2023-01-23 is due too and carries "
        "the current figures")
    assert ("weekly_report", f"township:{EAST}", "2023-01-16") not in skipped
