"""The email channel: each reminder as one plain-text UTF-8 message through SMTP.

Settings come from the service configuration (``NOTIFY_SMTP_HOST``, ``_PORT``,
``_SENDER``, ``_STARTTLS``, ``_USERNAME``, ``_TIMEOUT_S``). The password is read from
the ``NOTIFY_SMTP_PASSWORD`` environment variable only and is never logged.

The ``Message-ID`` is derived from the delivery id, so a receiver can drop the copy
that a retry sends when the server accepted a message but the connection broke before
its reply arrived. SMTP offers no stronger guarantee than that.

A weekly-report reminder attaches the report XLSX, fetched from reporting when the
email is sent (``services/notify/attachments.py``). While it cannot be fetched the
delivery fails and is retried; from attempt ``ATTACHMENT_ATTEMPTS`` on the email goes
without it, saying so, so that an outage of reporting never loses the reminder.
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
# Below services.notify.sender.MAX_ATTEMPTS (8), so that a few attempts remain.
ATTACHMENT_ATTEMPTS = 5
ATTACHED_NOTE = "\n\n附件：{names}"
MISSING_NOTE = "\n\n附件暂未能生成，请通过上面的下载路径获取周报表格。"


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


def build_message(delivery, sender: str, to: list[str], now, attachments=(),
                  note: str = "") -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = delivery.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{delivery.delivery_id}@{MESSAGE_ID_DOMAIN}>"
    message["X-Aixin-Delivery-Id"] = delivery.delivery_id
    message["X-Aixin-Recipient"] = delivery.recipient
    message["X-Aixin-Kind"] = delivery.kind
    message.set_content(delivery.body + note, charset="utf-8")
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype,
                               filename=attachment.filename)
    return message


class EmailChannel:
    """Sends each delivery to the recipient's configured ``email`` addresses."""

    name = "email"

    def __init__(self, settings: SmtpSettings, attachments=None):
        self.settings = settings
        # ``services.notify.attachments.ReportAttachments``, or None to attach nothing.
        self.attachments = attachments

    def deliver(self, delivery, address: dict, now) -> None:
        to = addresses_for(address, "email", delivery.recipient)
        files, note = self._attachments_of(delivery)
        message = build_message(delivery, self.settings.sender, to, now, files, note)
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
        log.info("email sent delivery_id=%s recipient=%s addresses=%s attachments=%s",
                 delivery.delivery_id, delivery.recipient, len(to) - len(refused),
                 len(files))

    def _attachments_of(self, delivery) -> tuple[list, str]:
        """Return the delivery's attachments and the line the body gains for them."""
        if self.attachments is None:
            return [], ""
        try:
            files = self.attachments.for_delivery(delivery)
        except DeliveryFailed as error:
            if delivery.attempts + 1 < ATTACHMENT_ATTEMPTS:
                raise
            log.error("sending the email without its attachment delivery_id=%s "
                      "attempt=%s error=%s", delivery.delivery_id, delivery.attempts + 1,
                      error)
            return [], MISSING_NOTE
        names = "、".join(file.filename for file in files)
        return files, ATTACHED_NOTE.format(names=names) if files else ""
