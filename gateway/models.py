"""Tables of the gateway: API tokens, stored as hashes only."""

from sqlalchemy import Column, DateTime, MetaData, String, Table

metadata = MetaData()

api_tokens = Table(
    "api_tokens", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("token_id", String(16), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("scope", String(32)),
    Column("name", String(120), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)
