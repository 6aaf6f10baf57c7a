"""Reminders are POSTed, signed, to a webhook that fails at first, and land once."""

import json
import time
from datetime import timedelta

import pytest

from services.notify.webhook import sign, verify_signature
from tests.integration.notify_channels.channel_system import (WebhookReceiver,
                                                              attempt_outcomes,
                                                              delivery_rows, send_due,
                                                              start_campaign, wait_for)
from tests.integration.reporting.campaign_events import CAMPAIGN_ID, at

SECRET = "test-webhook-secret-0123456789"


@pytest.fixture
def campaign(runner_factory, amqp_uri, tmp_path, monkeypatch):
    monkeypatch.setenv("NOTIFY_WEBHOOK_SECRET", SECRET)
    # First a 503, then an answer slower than the 1 s timeout, then success.
    receiver = WebhookReceiver([503, ("sleep", 3)])
    recipients = {"bureau:finance": {"channels": ["webhook"], "webhook": receiver.url}}
    system = start_campaign(runner_factory, amqp_uri, tmp_path, {
        "NOTIFY_WEBHOOK_TIMEOUT_S": 1, "NOTIFY_RECIPIENTS": json.dumps(recipients)})
    yield {**system, "receiver": receiver}
    receiver.stop()


def test_signature_covers_timestamp_and_body():
    secret = SECRET.encode()
    body = '{"kind": "funds_due"}'.encode()
    signature = sign(secret, "1700000000", body)
    assert signature.startswith("sha256=")
    assert verify_signature(secret, "1700000000", body, signature, now_s=1700000010)
    assert not verify_signature(secret, "1700000001", body, signature,
                                now_s=1700000010)
    assert not verify_signature(secret, "1700000000", body + b" ", signature,
                                now_s=1700000010)
    assert not verify_signature(b"another-secret-0123", "1700000000", body, signature,
                                now_s=1700000010)
    # A replayed request is rejected once its timestamp is older than five minutes.
    assert not verify_signature(secret, "1700000000", body, signature,
                                now_s=1700000000 + 301)


def test_webhook_retried_until_accepted(campaign):
    config, clock, receiver = campaign["config"], campaign["clock"], campaign["receiver"]
    clock.set(at(1, 10, 9))
    send_due(config)
    wait_for(lambda: len(receiver.requests) == 1)
    [delivery] = wait_for(lambda: [row for row in delivery_rows(campaign["url"],
                                                                "webhook")
                                   if row.status == "failed"])
    assert delivery.attempts == 1
    assert "HTTP 503" in delivery.last_error

    # The retry waits for its one-minute backoff on the campaign clock.
    send_due(config)
    assert len(receiver.requests) == 1
    clock.set(at(1, 10, 9, 1))
    send_due(config)
    wait_for(lambda: len(receiver.requests) == 2)
    wait_for(lambda: "timed out" in (delivery_rows(campaign["url"], "webhook")[0]
                                     .last_error or ""))
    clock.set(at(1, 10, 9, 1) + timedelta(minutes=2))
    send_due(config)
    wait_for(lambda: delivery_rows(campaign["url"], "webhook")[0].status == "sent")

    # Nothing is sent again once the receiver accepted it.
    clock.set(at(1, 10, 11))
    send_due(config)
    send_due(config)
    assert len(receiver.requests) == 3
    assert [request["answered"] for request in receiver.requests] == [503, "slow", 200]
    assert attempt_outcomes(campaign["url"], delivery.delivery_id) == [
        "failed", "failed", "sent"]

    for request in receiver.requests:
        assert request["delivery"] == delivery.delivery_id
        assert verify_signature(SECRET.encode(), request["timestamp"], request["body"],
                                request["signature"], now_s=time.time())
    payload = json.loads(receiver.requests[-1]["body"])
    assert payload["delivery_id"] == delivery.delivery_id
    assert payload["campaign_id"] == CAMPAIGN_ID
    assert payload["kind"] == "funds_due"
    assert payload["recipient"] == "bureau:finance"
    assert payload["occurrence_date"] == "2023-01-10"
    assert payload["subject"] == "【资金到位提醒】"
    assert "距截止还有 3 天" in payload["body"]
    assert "已到账" in payload["body"]
