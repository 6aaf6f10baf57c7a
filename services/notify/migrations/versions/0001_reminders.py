"""Campaigns, townships, the reminder schedule, deliveries, the inbox and plumbing.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from aixin.plumbing import Identity, create_plumbing_tables, drop_plumbing_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = ("inbox", "delivery_attempts", "deliveries", "claims", "occurrences",
          "townships", "campaigns")


def upgrade() -> None:
    create_plumbing_tables(op.get_bind())
    op.create_table(
        "campaigns",
        sa.Column("campaign_id", sa.String(40), primary_key=True),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("created_on", sa.Date, nullable=False),
    )
    op.create_table(
        "townships",
        sa.Column("campaign_id", sa.String(40), primary_key=True),
        sa.Column("township_code", sa.String(12), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
    )
    op.create_table(
        "occurrences",
        sa.Column("campaign_id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("occurrence_date", sa.Date, primary_key=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("audience", sa.String(20), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "claims",
        sa.Column("campaign_id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("occurrence_date", sa.Date, primary_key=True),
        sa.Column("recipient", sa.String(200), primary_key=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("delivery_id", sa.String(36), primary_key=True),
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("occurrence_date", sa.Date, nullable=False),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("township_code", sa.String(12)),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("campaign_id", "kind", "occurrence_date", "recipient",
                            "channel"),
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("id", Identity, primary_key=True, autoincrement=True),
        sa.Column("delivery_id", sa.String(36), nullable=False, index=True),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("error", sa.Text),
    )
    op.create_table(
        "inbox",
        sa.Column("id", Identity, primary_key=True, autoincrement=True),
        sa.Column("delivery_id", sa.String(36), nullable=False, unique=True),
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=False, index=True),
        sa.Column("township_code", sa.String(12), index=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
    drop_plumbing_tables(op.get_bind())
