"""Reminders arrive by email at a real local SMTP server, once per recipient."""

import json
from collections import Counter

import pytest

from tests.integration.notify_channels.channel_system import (SmtpSink, delivery_rows,
                                                              send_due, start_campaign,
                                                              wait_for)
from tests.integration.reporting.campaign_events import EAST, WEST, at

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
    # Funds due on 10 and 12 January to finance, hand-out on 15 January to each township.
    messages = wait_for(lambda: len(sink.messages()) >= 4 and sink.messages())
    assert len(messages) == 4
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
    assert [message["Subject"] for message in finance] == ["【资金到位提醒】"] * 2
    assert finance[0]["To"] == "finance@aixin.test, finance-head@aixin.test"
    assert "已到账" in finance[0].get_content()

    sent = [row for row in delivery_rows(campaign["url"], "email")]
    assert {row.status for row in sent} == {"sent"}
    message_ids = Counter(str(message["Message-ID"]) for message in messages)
    assert set(message_ids.values()) == {1}
    assert set(message_ids) == {f"<{row.delivery_id}@aixin.notify>" for row in sent}


def test_email_not_repeated_later(campaign):
    config, clock, sink = campaign["config"], campaign["clock"], campaign["sink"]
    clock.set(at(1, 12, 9, 30))
    send_due(config)
    wait_for(lambda: len(sink.messages()) == 2)
    clock.set(at(1, 16, 9))
    send_due(config)
    send_due(config)
    # The 16th adds a hand-out and a weekly-report reminder per township, one more
    # for the 15th's hand-out, and nothing again for finance.
    wait_for(lambda: len(sink.messages()) >= 8)
    send_due(config)
    messages = sink.messages()
    assert len(messages) == 8
    kinds = Counter((str(message["X-Aixin-Recipient"]), str(message["X-Aixin-Kind"]))
                    for message in messages)
    assert kinds[("bureau:finance", "funds_due")] == 2
    for code in (EAST, WEST):
        assert kinds[(f"township:{code}", "handout")] == 2
        assert kinds[(f"township:{code}", "weekly_report")] == 1
    weekly = [message for message in messages
              if str(message["X-Aixin-Kind"]) == "weekly_report"
              and str(message["X-Aixin-Recipient"]) == f"township:{WEST}"]
    assert "上周发放 1 张，核销 1 张、250.00 元" in weekly[0].get_content()
