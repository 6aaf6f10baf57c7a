"""Delivery channels and the recipients configuration.

A channel delivers one stored delivery and raises ``DeliveryFailed`` when it could
not; the sender retries failed deliveries with backoff. The channels are the inbox
(always), email through SMTP (``services/notify/email_channel.py``, when
``NOTIFY_SMTP_HOST`` is configured) and the HMAC-signed webhook
(``services/notify/webhook.py``, when ``NOTIFY_WEBHOOK_SECRET`` is set).

``NOTIFY_RECIPIENTS`` maps a recipient id (``bureau:finance``, ``township:<code>``,
``village:<code>:<name>``, ``merchant:<code>``) or a recipient type (``township``)
to ``{"channels": [...], "email": ..., "webhook": ...}``. ``email`` is one address
or a list of them, ``webhook`` is one URL. In either, ``{code}`` stands for the
recipient id's second part (the township or merchant code, or the bureau's role), so
one type-wide entry can address each township separately. Anything not configured
gets the default channels, which are ``["inbox"]`` unless ``default_channels`` says
otherwise.
"""

import json
import logging

from sqlalchemy import exc as sa_exc
from sqlalchemy import insert

from services.notify.models import inbox

log = logging.getLogger(__name__)

DEFAULT_CHANNELS = ("inbox",)


class DeliveryFailed(Exception):
    """A channel could not deliver; the delivery is retried later."""


class InboxChannel:
    """Stores the message in the notify database, readable through the gateway."""

    name = "inbox"

    def __init__(self, database):
        self.database = database

    def deliver(self, delivery, address: dict, now) -> None:
        try:
            with self.database.transaction() as session:
                session.execute(insert(inbox).values(
                    delivery_id=delivery.delivery_id, campaign_id=delivery.campaign_id,
                    recipient=delivery.recipient, township_code=delivery.township_code,
                    kind=delivery.kind, subject=delivery.subject, body=delivery.body,
                    delivered_at=now))
        except sa_exc.IntegrityError:
            # An earlier attempt stored it before its outcome was recorded.
            log.info("inbox message already stored delivery_id=%s",
                     delivery.delivery_id)
        except sa_exc.SQLAlchemyError as error:
            raise DeliveryFailed(f"inbox write failed: {error}") from error


def build_channels(database, config: dict | None = None, attachments=None) -> dict:
    """Return the channels that the configuration and the environment enable.

    ``attachments`` (``services.notify.attachments.ReportAttachments``) supplies the
    documents that emails carry.
    """
    # Imported here because both modules import DeliveryFailed from this one.
    from services.notify.email_channel import EmailChannel, SmtpSettings
    from services.notify.webhook import WebhookChannel, secret_from_environment

    config = config or {}
    channels = {"inbox": InboxChannel(database)}
    smtp = SmtpSettings.from_config(config)
    if smtp is not None:
        channels["email"] = EmailChannel(smtp, attachments)
    secret = secret_from_environment()
    if secret is not None:
        channels["webhook"] = WebhookChannel(
            secret, float(config.get("NOTIFY_WEBHOOK_TIMEOUT_S") or 10))
    return channels


def addresses_for(address: dict, channel: str, recipient: str) -> list[str]:
    """Return the recipient's addresses on ``channel`` with ``{code}`` filled in."""
    configured = address.get(channel)
    if not configured:
        raise DeliveryFailed(f"no {channel} address configured for {recipient}: add "
                             f"one to its NOTIFY_RECIPIENTS entry")
    values = [configured] if isinstance(configured, str) else list(configured)
    parts = recipient.split(":")
    code = parts[1] if len(parts) > 1 else ""
    return [value.replace("{code}", code) for value in values]


class Recipients:
    """The channels and addresses of each recipient, from configuration."""

    def __init__(self, mapping: dict | str | None, available: set[str]):
        if isinstance(mapping, str):
            mapping = json.loads(mapping) if mapping.strip() else {}
        mapping = dict(mapping or {})
        self.default_channels = tuple(mapping.pop("default_channels", DEFAULT_CHANNELS))
        self.entries = mapping
        for key, entry in [("default_channels", {"channels": self.default_channels}),
                           *mapping.items()]:
            unknown = set(entry.get("channels", ())) - available
            if unknown:
                raise ValueError(
                    f"NOTIFY_RECIPIENTS entry {key!r} names unavailable channels "
                    f"{sorted(unknown)}: available are {sorted(available)} (email "
                    f"needs NOTIFY_SMTP_HOST and NOTIFY_SMTP_SENDER, webhook needs "
                    f"NOTIFY_WEBHOOK_SECRET)")
            if key != "default_channels":
                _check_addresses(key, entry)

    def address_of(self, recipient: str) -> dict:
        """Return the configuration entry of ``recipient``, or of its type."""
        recipient_type = recipient.split(":", 1)[0]
        entry = self.entries.get(recipient) or self.entries.get(recipient_type) or {}
        return {"channels": list(self.default_channels), **entry}

    def channels_of(self, recipient: str) -> list[str]:
        return list(self.address_of(recipient)["channels"])


def _check_addresses(key: str, entry: dict) -> None:
    """Reject an entry that names a channel but lacks or garbles its address."""
    channels = entry.get("channels", ())
    if "email" in channels and not entry.get("email"):
        raise ValueError(f"NOTIFY_RECIPIENTS entry {key!r} uses email but has no "
                         f"\"email\" address")
    if "webhook" in channels:
        url = entry.get("webhook")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(f"NOTIFY_RECIPIENTS entry {key!r} uses webhook but its "
                             f"\"webhook\" is not one http:// or https:// URL: {url!r}")
