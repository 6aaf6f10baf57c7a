"""Tables that every service database has besides its own.

- ``outbox``: events written in the same transaction as the change they announce,
  published later by the relay.
- ``processed_events``: ids of events a handler has applied, so a redelivery is a no-op.
- ``parked_messages``: events a handler could not apply, kept for an operator to list
  and replay.
- ``idempotency_keys``: results of state-changing commands, returned again on a retry.
- ``audit_log``: who changed what, when and why.

Each service's first migration creates them with ``create_plumbing_tables``.
"""

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

plumbing_metadata = MetaData()

# SQLite only auto-increments INTEGER PRIMARY KEY, so BIGINT becomes INTEGER there.
Identity = BigInteger().with_variant(Integer(), "sqlite")

outbox = Table(
    "outbox",
    plumbing_metadata,
    Column("position", Identity, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("event_type", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
)

processed_events = Table(
    "processed_events",
    plumbing_metadata,
    Column("event_id", String(36), primary_key=True),
    Column("handler", String(120), primary_key=True),
    Column("processed_at", DateTime(timezone=True), nullable=False),
)

parked_messages = Table(
    "parked_messages",
    plumbing_metadata,
    Column("id", Identity, primary_key=True, autoincrement=True),
    Column("handler", String(120), nullable=False),
    Column("event_id", String(64)),
    Column("event_type", String(64)),
    Column("body", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("parked_at", DateTime(timezone=True), nullable=False),
    Column("replayed_at", DateTime(timezone=True)),
)

idempotency_keys = Table(
    "idempotency_keys",
    plumbing_metadata,
    Column("key", String(120), primary_key=True),
    Column("operation", String(64), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("response", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

audit_log = Table(
    "audit_log",
    plumbing_metadata,
    Column("id", Identity, primary_key=True, autoincrement=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", String(120), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(120), nullable=False, index=True),
    Column("reason", Text),
    Column("details", JSON),
)


def create_plumbing_tables(bind) -> None:
    plumbing_metadata.create_all(bind)


def drop_plumbing_tables(bind) -> None:
    plumbing_metadata.drop_all(bind)
