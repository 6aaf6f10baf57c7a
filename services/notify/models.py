"""Tables of the notify service: the schedule, claims, deliveries and the inbox."""

from sqlalchemy import (JSON, Column, Date, DateTime, Integer, MetaData, String, Table,
                        Text, UniqueConstraint)

from aixin.plumbing import Identity

metadata = MetaData()

campaigns = Table(
    "campaigns", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("config", JSON, nullable=False),
    Column("created_on", Date, nullable=False),
)

townships = Table(
    "townships", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("township_code", String(12), primary_key=True),
    Column("name", String(120), nullable=False),
)

# One row per reminder occurrence; done_at is set once every recipient is claimed.
occurrences = Table(
    "occurrences", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("kind", String(40), primary_key=True),
    Column("occurrence_date", Date, primary_key=True),
    Column("due_at", DateTime(timezone=True), nullable=False, index=True),
    Column("audience", String(20), nullable=False),
    Column("done_at", DateTime(timezone=True)),
)

# The once-only guarantee: a recipient gets one reminder per kind and occurrence.
claims = Table(
    "claims", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("kind", String(40), primary_key=True),
    Column("occurrence_date", Date, primary_key=True),
    Column("recipient", String(200), primary_key=True),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
)

# One row per message and channel. Status: pending, sending, sent, failed or skipped;
# ``reason`` gives why a skipped message was not sent.
deliveries = Table(
    "deliveries", metadata,
    Column("delivery_id", String(36), primary_key=True),
    Column("campaign_id", String(40), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("occurrence_date", Date, nullable=False),
    Column("recipient", String(200), nullable=False),
    Column("township_code", String(12)),
    Column("channel", String(20), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(10), nullable=False, index=True),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("reason", Text),
    UniqueConstraint("campaign_id", "kind", "occurrence_date", "recipient", "channel"),
)

delivery_attempts = Table(
    "delivery_attempts", metadata,
    Column("id", Identity, primary_key=True, autoincrement=True),
    Column("delivery_id", String(36), nullable=False, index=True),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    Column("outcome", String(10), nullable=False),
    Column("error", Text),
)

inbox = Table(
    "inbox", metadata,
    Column("id", Identity, primary_key=True, autoincrement=True),
    Column("delivery_id", String(36), nullable=False, unique=True),
    Column("campaign_id", String(40), nullable=False),
    Column("recipient", String(200), nullable=False, index=True),
    Column("township_code", String(12), index=True),
    Column("kind", String(40), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=False),
)
