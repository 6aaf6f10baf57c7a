"""Reminders arrive by email at a real local SMTP server, once per recipient."""

import io
import json
from collections import Counter
from datetime import timedelta

import eventlet
import openpyxl
import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from aixin.db import Database
from services.notify.attachments import ReportAttachments
from services.notify.channels import InboxChannel, Recipients
from services.notify.email_channel import (ATTACHMENT_ATTEMPTS, EmailChannel,
                                          SmtpSettings)
from services.notify.figures import ReportingClient
from services.notify.sender import claim_due, deliver_pending
from tests.integration.notify_channels.channel_system import (SmtpSink,
                                                              attempt_outcomes,
                                                              delivery_rows, send_due,
                                                              start_campaign, wait_for)
from tests.integration.reporting.campaign_events import EAST, WEST, at

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

RECIPIENTS = {
    "default_channels": ["inbox"],
    "township": {"channels": ["inbox", "email"], "email": "township-{code}@aixin.test"},
    "bureau:finance": {"channels": ["inbox", "email"],
                       "email": ["finance@aixin.test", "finance-head@aixin.test"]},
}


@pytest.fixture
def campaign(runner_factory, amqp_uri, tmp_path):
    sink = SmtpSink(tmp_path / "maildir")
    system = start_campaign(runner_factory, amqp_uri, tmp_path, {
        "NOTIFY_SMTP_HOST": "127.0.0.1", "NOTIFY_SMTP_PORT": sink.port,
        "NOTIFY_SMTP_SENDER": "aixin@aixin.test", "NOTIFY_SMTP_TIMEOUT_S": 10,
        "NOTIFY_RECIPIENTS": json.dumps(RECIPIENTS)})
    yield {**system, "sink": sink}
    sink.stop()


def by_recipient(messages) -> dict:
    grouped = {}
    for message in messages:
        grouped.setdefault(str(message["X-Aixin-Recipient"]), []).append(message)
    return grouped


def test_email_reminders_arrive_once(campaign):
    config, clock, sink = campaign["config"], campaign["clock"], campaign["sink"]
    clock.set(at(1, 15, 9))
    send_due(config)
    send_due(config)
    # Funds due on 12 January to finance (the reminder of the 10th is superseded),
    # hand-out on 15 January to each township.
    messages = wait_for(lambda: len(sink.messages()) >= 3 and sink.messages())
    assert len(messages) == 3
    grouped = by_recipient(messages)
    assert sorted(grouped) == ["bureau:finance", f"township:{EAST}", f"township:{WEST}"]

    east = grouped[f"township:{EAST}"]
    assert len(east) == 1
    assert east[0]["Subject"] == "【发放提醒】"
    assert east[0]["To"] == f"township-{EAST}@aixin.test"
    assert east[0]["From"] == "aixin@aixin.test"
    east_body = east[0].get_content()
    assert "东镇" in east_body
    assert "尚有 2 张消费券未发放" in east_body
    assert "已发放 1 张" in east_body

    finance = grouped["bureau:finance"]
    assert [message["Subject"] for message in finance] == ["【资金到位提醒】"]
    assert finance[0]["To"] == "finance@aixin.test, finance-head@aixin.test"
    assert "已到账" in finance[0].get_content()

    sent = [row for row in delivery_rows(campaign["url"], "email")
            if row.status != "skipped"]
    assert {row.status for row in sent} == {"sent"}
    message_ids = Counter(str(message["Message-ID"]) for message in messages)
    assert set(message_ids.values()) == {1}
    assert set(message_ids) == {f"<{row.delivery_id}@aixin.notify>" for row in sent}


def test_email_not_repeated_later(campaign):
    config, clock, sink = campaign["config"], campaign["clock"], campaign["sink"]
    clock.set(at(1, 12, 9, 30))
    send_due(config)
    wait_for(lambda: len(sink.messages()) == 1)
    clock.set(at(1, 16, 9))
    send_due(config)
    send_due(config)
    # The 16th adds a hand-out (superseding the 15th's) and a weekly-report reminder
    # per township, the district's weekly report for finance, and no funds reminder.
    wait_for(lambda: len(sink.messages()) >= 6)
    send_due(config)
    messages = sink.messages()
    assert len(messages) == 6
    kinds = Counter((str(message["X-Aixin-Recipient"]), str(message["X-Aixin-Kind"]))
                    for message in messages)
    assert kinds[("bureau:finance", "funds_due")] == 1
    assert kinds[("bureau:finance", "weekly_report")] == 1
    for code in (EAST, WEST):
        assert kinds[(f"township:{code}", "handout")] == 1
        assert kinds[(f"township:{code}", "weekly_report")] == 1
    weekly = [message for message in messages
              if str(message["X-Aixin-Kind"]) == "weekly_report"
              and str(message["X-Aixin-Recipient"]) == f"township:{WEST}"]
    # The weekly report comes as an attachment, so the text is one part of the email.
    text = weekly[0].get_body(("plain",)).get_content()
    assert "上周发放 1 张，核销 1 张、250.00 元" in text


def weekly_emails(messages) -> dict:
    return {str(message["X-Aixin-Recipient"]): message for message in messages
            if str(message["X-Aixin-Kind"]) == "weekly_report"}


def workbook_of(message):
    """Return the message's one attachment, opened as a workbook, and its name."""
    [part] = list(message.iter_attachments())
    assert part.get_content_type() == XLSX
    return openpyxl.load_workbook(io.BytesIO(part.get_content())), part.get_filename()


def report_rows(workbook) -> dict:
    rows = list(workbook["周报"].iter_rows(values_only=True))
    header = rows[2]
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows[3:] if row[0]}


def test_weekly_report_email_attaches_its_xlsx(campaign):
    config, clock, sink = campaign["config"], campaign["clock"], campaign["sink"]
    clock.set(at(1, 16, 9))
    send_due(config)
    weekly = wait_for(lambda: len(weekly_emails(sink.messages())) == 3
                      and weekly_emails(sink.messages()))
    assert sorted(weekly) == ["bureau:finance", f"township:{EAST}", f"township:{WEST}"]

    west, filename = workbook_of(weekly[f"township:{WEST}"])
    assert filename == "周报_西镇_2023-01-15.xlsx"
    assert west["周报"]["A1"].value == "郾城区爱心消费券发放核销周报（西镇）"
    villages = report_rows(west)
    assert villages["西村"]["本周发放"] == 1
    assert villages["西村"]["本周核销张数"] == 1
    assert villages["合计"]["累计核销金额（元）"] == 250
    assert "附件：周报_西镇_2023-01-15.xlsx" in weekly[f"township:{WEST}"].get_body(
        ("plain",)).get_content()

    district, filename = workbook_of(weekly["bureau:finance"])
    assert filename == "周报_郾城区_2023-01-15.xlsx"
    townships = report_rows(district)
    assert townships["东镇"]["累计发放"] == 1
    assert townships["西镇"]["累计核销张数"] == 1
    assert townships["合计"]["应发人数"] == 5
    body = weekly["bureau:finance"].get_body(("plain",)).get_content()
    assert "全区发放 2 张" in body


class ReportingOutage:
    """Reporting through a standalone proxy, shaped like nameko's RpcProxy, whose
    weekly report files hang past the client's timeout while ``down`` is set."""

    def __init__(self, proxy):
        self.proxy = proxy
        self.down = True
        self.hung = 0

    def __getattr__(self, name):
        method = getattr(self.proxy, name)
        outage = self

        class Reply:
            def __init__(self, *args, **kwargs):
                self.args, self.kwargs = args, kwargs

            def result(self):
                if outage.down and name == "weekly_report_xlsx":
                    outage.hung += 1
                    eventlet.sleep(30)
                return method(*self.args, **self.kwargs)

        return type("Method", (), {"call_async": staticmethod(Reply)})


@pytest.fixture
def by_hand(campaign):
    """The campaign with notify stopped, to run the sender's steps one at a time."""
    campaign["notify"].stop()
    config = campaign["config"]
    database = Database(campaign["url"])
    settings = SmtpSettings.from_config(config, environ={})
    recipients = Recipients(RECIPIENTS, {"inbox", "email"})
    with ServiceRpcProxy("reporting", config) as reports:
        outage = ReportingOutage(reports)
        channels = {"inbox": InboxChannel(database), "email": EmailChannel(
            settings, ReportAttachments(ReportingClient(outage, timeout=0.5)))}
        campaign["clock"].set(at(1, 16, 9))
        outage.down = False
        claim_due(database, ReportingClient(outage), recipients,
                  campaign["clock"].now())
        outage.down = True
        yield {**campaign, "database": database, "outage": outage,
               "deliver": lambda: deliver_pending(database, channels, recipients,
                                                  campaign["clock"])}
    database.dispose()


def test_attachment_fetch_failure_is_retried(by_hand):
    clock, sink, outage = by_hand["clock"], by_hand["sink"], by_hand["outage"]
    outcome = by_hand["deliver"]()
    # Three weekly emails wait for their attachment; everything else went out.
    assert outcome["failed"] == 3
    assert outage.hung == 3
    assert weekly_emails(sink.messages()) == {}
    failed = [row for row in delivery_rows(by_hand["url"], "email")
              if row.kind == "weekly_report"]
    assert {row.status for row in failed} == {"failed"}
    assert all("attachment unavailable" in row.last_error for row in failed)

    outage.down = False
    assert by_hand["deliver"]() == {"sent": 0, "failed": 0}  # waiting for backoff
    clock.set(at(1, 16, 9, 2))
    assert by_hand["deliver"]() == {"sent": 3, "failed": 0}
    weekly = wait_for(lambda: len(weekly_emails(sink.messages())) == 3
                      and weekly_emails(sink.messages()))
    for message in weekly.values():
        workbook, _ = workbook_of(message)
        assert "周报" in workbook.sheetnames
    for row in failed:
        assert attempt_outcomes(by_hand["url"], row.delivery_id) == ["failed", "sent"]


def test_reminder_not_lost_when_attachment_never_comes(by_hand):
    clock, sink = by_hand["clock"], by_hand["sink"]
    for attempt in range(1, ATTACHMENT_ATTEMPTS):
        assert by_hand["deliver"]()["failed"] == 3, attempt
        clock.set(clock.now() + timedelta(hours=1))
    assert by_hand["deliver"]()["sent"] == 3
    weekly = wait_for(lambda: len(weekly_emails(sink.messages())) == 3
                      and weekly_emails(sink.messages()))
    for message in weekly.values():
        assert list(message.iter_attachments()) == []
        assert "附件暂未能生成" in message.get_body(("plain",)).get_content()
        assert "weekly.xlsx?monday=2023-01-16" in message.get_body(
            ("plain",)).get_content()
