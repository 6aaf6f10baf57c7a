"""The email channel: each reminder as one plain-text UTF-8 message through SMTP.

Settings come from the service configuration (``NOTIFY_SMTP_HOST``, ``_PORT``,
``_SENDER``, ``_STARTTLS``, ``_USERNAME``, ``_TIMEOUT_S``). The password is read from
the ``NOTIFY_SMTP_PASSWORD`` environment variable only and is never logged.

The ``Message-ID`` is derived from the delivery id, so a receiver can drop the copy
that a retry sends when the server accepted a message but the connection broke before
its reply arrived. SMTP offers no stronger guarantee than that.
"""

import logging
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime

from services.notify.channels import DeliveryFailed, addresses_for

log = logging.getLogger(__name__)

PASSWORD_VARIABLE = "NOTIFY_SMTP_PASSWORD"
MESSAGE_ID_DOMAIN = "aixin.notify"


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    starttls: bool
    username: str | None
    password: str | None
    timeout_s: float

    @classmethod
    def from_config(cls, config: dict, environ=os.environ) -> "SmtpSettings | None":
        """Return the settings, or None when no SMTP host is configured."""
        host = config.get("NOTIFY_SMTP_HOST")
        if not host:
            return None
        sender = config.get("NOTIFY_SMTP_SENDER")
        if not sender:
            raise ValueError("NOTIFY_SMTP_HOST is set but NOTIFY_SMTP_SENDER is not: set "
                             "the From address of reminder emails, e.g. "
                             "aixin@example.gov.cn")
        username = config.get("NOTIFY_SMTP_USERNAME") or None
        password = environ.get(PASSWORD_VARIABLE) or None
        if username and not password:
            raise ValueError(f"NOTIFY_SMTP_USERNAME is set but {PASSWORD_VARIABLE} is "
                             "not: export the SMTP password in the environment")
        return cls(host=str(host), port=int(config.get("NOTIFY_SMTP_PORT") or 25),
                   sender=str(sender), starttls=_flag(config.get("NOTIFY_SMTP_STARTTLS")),
                   username=username, password=password,
                   timeout_s=float(config.get("NOTIFY_SMTP_TIMEOUT_S") or 30))


def _flag(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


def build_message(delivery, sender: str, to: list[str], now) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = delivery.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{delivery.delivery_id}@{MESSAGE_ID_DOMAIN}>"
    message["X-Aixin-Delivery-Id"] = delivery.delivery_id
    message["X-Aixin-Recipient"] = delivery.recipient
    message["X-Aixin-Kind"] = delivery.kind
    message.set_content(delivery.body, charset="utf-8")
    return message


class EmailChannel:
    """Sends each delivery to the recipient's configured ``email`` addresses."""

    name = "email"

    def __init__(self, settings: SmtpSettings):
        self.settings = settings

    def deliver(self, delivery, address: dict, now) -> None:
        to = addresses_for(address, "email", delivery.recipient)
        message = build_message(delivery, self.settings.sender, to, now)
        settings = self.settings
        try:
            with smtplib.SMTP(settings.host, settings.port,
                              timeout=settings.timeout_s) as server:
                if settings.starttls:
                    server.starttls(context=ssl.create_default_context())
                if settings.username:
                    server.login(settings.username, settings.password)
                refused = server.send_message(message, to_addrs=to)
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryFailed(f"SMTP delivery to {settings.host}:{settings.port} "
                                 f"failed: {type(error).__name__}: {error}") from error
        if refused:
            # The other addresses have the message, so a retry would duplicate it.
            log.error("SMTP server refused some addresses delivery_id=%s refused=%s",
                      delivery.delivery_id, sorted(refused))
        log.info("email sent delivery_id=%s recipient=%s addresses=%s",
                 delivery.delivery_id, delivery.recipient, len(to) - len(refused))
