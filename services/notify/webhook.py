"""The webhook channel: each reminder as an HMAC-SHA256-signed JSON POST.

Request headers:

- ``X-Aixin-Timestamp``: Unix time in whole seconds when the request was signed.
- ``X-Aixin-Signature``: ``sha256=`` and the lowercase hex HMAC-SHA256, keyed with the
  UTF-8 bytes of ``NOTIFY_WEBHOOK_SECRET``, of the timestamp, a full stop and the raw
  request body: ``f"{timestamp}.".encode() + body``.
- ``X-Aixin-Delivery``: the delivery id, the same on every retry of one reminder.

A receiver recomputes the signature over the body bytes it received and compares it
in constant time. It rejects a timestamp more than ``TOLERANCE_S`` seconds from its
own clock, which stops a replayed request; ``verify_signature`` does both checks.
It treats a second request with the same delivery id as a duplicate. Any 2xx response
counts as delivered. Any other status, a timeout or a connection error raises
``DeliveryFailed``, and the sender retries later with backoff.
"""

import hashlib
import hmac
import json
import logging
import os
import time
from urllib.parse import urlsplit

import requests

from services.notify.channels import DeliveryFailed, addresses_for

log = logging.getLogger(__name__)

SECRET_VARIABLE = "NOTIFY_WEBHOOK_SECRET"
MIN_SECRET_LENGTH = 16
SIGNATURE_HEADER = "X-Aixin-Signature"
TIMESTAMP_HEADER = "X-Aixin-Timestamp"
DELIVERY_HEADER = "X-Aixin-Delivery"
TOLERANCE_S = 300


def secret_from_environment(environ=os.environ) -> bytes | None:
    """Return the signing secret, None when unset; raise ValueError when too short."""
    text = environ.get(SECRET_VARIABLE, "")
    if not text:
        return None
    if len(text) < MIN_SECRET_LENGTH:
        raise ValueError(f"{SECRET_VARIABLE} is only {len(text)} characters long: use a "
                         f"random secret of at least {MIN_SECRET_LENGTH} characters")
    return text.encode("utf-8")


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """Return the ``X-Aixin-Signature`` value of ``body`` signed at ``timestamp``."""
    digest = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify_signature(secret: bytes, timestamp: str, body: bytes, signature: str,
                     now_s: float, tolerance_s: int = TOLERANCE_S) -> bool:
    """Check a received request's signature and the freshness of its timestamp."""
    try:
        signed_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now_s - signed_at) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def payload_of(delivery) -> dict:
    return {"delivery_id": delivery.delivery_id, "campaign_id": delivery.campaign_id,
            "kind": delivery.kind,
            "occurrence_date": delivery.occurrence_date.isoformat(),
            "recipient": delivery.recipient, "township_code": delivery.township_code,
            "subject": delivery.subject, "body": delivery.body}


class WebhookChannel:
    """POSTs each delivery to the recipient's configured ``webhook`` URL."""

    name = "webhook"

    def __init__(self, secret: bytes, timeout_s: float = 10.0):
        self.secret = secret
        self.timeout_s = timeout_s

    def deliver(self, delivery, address: dict, now) -> None:
        body = json.dumps(payload_of(delivery), ensure_ascii=False,
                          sort_keys=True).encode("utf-8")
        # Recipients allows one URL per recipient, so a retry repeats no success.
        [url] = addresses_for(address, "webhook", delivery.recipient)
        self._post(url, body, delivery.delivery_id)

    def _post(self, url: str, body: bytes, delivery_id: str) -> None:
        # The timestamp is wall-clock time, not the campaign clock: it only proves to
        # the receiver, against its own clock, that the request is fresh.
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json; charset=utf-8",
                   TIMESTAMP_HEADER: timestamp, DELIVERY_HEADER: delivery_id,
                   SIGNATURE_HEADER: sign(self.secret, timestamp, body)}
        # Only the host is named in errors and logs: a URL's path or query may hold a
        # receiver's own token.
        host = urlsplit(url).netloc
        try:
            response = requests.post(url, data=body, headers=headers,
                                     timeout=self.timeout_s, allow_redirects=False)
        except requests.Timeout:
            raise DeliveryFailed(f"webhook POST to {host} timed out after "
                                 f"{self.timeout_s}s") from None
        except requests.RequestException as error:
            raise DeliveryFailed(f"webhook POST to {host} failed: "
                                 f"{type(error).__name__}") from error
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"webhook POST to {host} returned HTTP "
                                 f"{response.status_code}")
        log.info("webhook delivered delivery_id=%s host=%s status=%s", delivery_id,
                 host, response.status_code)
