"""Delivery channels and the recipients configuration.

A channel delivers one stored delivery and raises ``DeliveryFailed`` when it could
not; the sender retries failed deliveries with backoff. Only the inbox exists now.
An email (SMTP) or webhook (HMAC-signed POST) channel implements the same
``deliver`` and is registered in ``build_channels`` under the name that the
recipients configuration uses.

``NOTIFY_RECIPIENTS`` maps a recipient id (``bureau:finance``, ``township:<code>``,
``village:<code>:<name>``, ``merchant:<code>``) or a recipient type (``township``)
to ``{"channels": [...], ...channel addresses}``. Anything not configured gets the
default channels, which are ``["inbox"]`` unless ``default_channels`` says otherwise.
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


def build_channels(database) -> dict:
    return {"inbox": InboxChannel(database)}


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
                    f"{sorted(unknown)}: available are {sorted(available)}")

    def address_of(self, recipient: str) -> dict:
        """Return the configuration entry of ``recipient``, or of its type."""
        recipient_type = recipient.split(":", 1)[0]
        entry = self.entries.get(recipient) or self.entries.get(recipient_type) or {}
        return {"channels": list(self.default_channels), **entry}

    def channels_of(self, recipient: str) -> list[str]:
        return list(self.address_of(recipient)["channels"])
