"""Documents attached to reminder emails, fetched from reporting when they are sent.

A weekly-report reminder carries the weekly report XLSX of its recipient's scope:
a township's report (by village) for a township, the district's report (by
township) for a bureau. The report is fetched at send time, outside any database
transaction, through the same time-limited client as the figures. A failed fetch
raises ``DeliveryFailed``, so the sender retries the delivery with backoff.
"""

import base64
import binascii
import logging
from dataclasses import dataclass

from services.notify.channels import DeliveryFailed
from services.notify.figures import FiguresUnavailable, ReportingClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


class ReportAttachments:
    """Fetches the documents that a delivery's email carries."""

    def __init__(self, client: ReportingClient):
        self.client = client

    def for_delivery(self, delivery) -> list[Attachment]:
        """Return the delivery's attachments; raise ``DeliveryFailed`` if missing."""
        if delivery.kind != "weekly_report":
            return []
        try:
            document = self.client.call(
                "weekly_report_xlsx", delivery.campaign_id,
                monday=delivery.occurrence_date.isoformat(),
                township_code=delivery.township_code)
            content = base64.b64decode(document["content_b64"], validate=True)
        except FiguresUnavailable as error:
            raise DeliveryFailed(f"weekly report attachment unavailable: {error}") \
                from error
        except (KeyError, TypeError, binascii.Error) as error:
            raise DeliveryFailed(f"weekly report attachment unreadable: {error!r}") \
                from error
        log.info("attachment fetched delivery_id=%s filename=%s bytes=%s",
                 delivery.delivery_id, document["filename"], len(content))
        return [Attachment(document["filename"], document["content_type"], content)]
