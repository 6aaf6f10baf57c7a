"""Campaigns, designated merchants and the shared plumbing tables.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from aixin.plumbing import create_plumbing_tables, drop_plumbing_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_plumbing_tables(op.get_bind())
    op.create_table(
        "campaigns",
        sa.Column("campaign_id", sa.String(40), primary_key=True),
        sa.Column("campaign_no", sa.Integer, nullable=False, unique=True),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
    )
    op.create_table(
        "merchants",
        sa.Column("campaign_id", sa.String(40), sa.ForeignKey("campaigns.campaign_id"),
                  primary_key=True),
        sa.Column("merchant_code", sa.String(18), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("above_size", sa.Boolean, nullable=False),
        sa.Column("stores", sa.Integer, nullable=False),
        sa.Column("contact", sa.String(200)),
        sa.Column("opening_hours", sa.String(20), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=False),
        sa.Column("designated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("designated_by", sa.String(120), nullable=False),
    )
    op.create_table(
        "merchant_townships",
        sa.Column("campaign_id", sa.String(40), primary_key=True),
        sa.Column("merchant_code", sa.String(18), primary_key=True),
        sa.Column("township_code", sa.String(12), primary_key=True, index=True),
    )


def downgrade() -> None:
    op.drop_table("merchant_townships")
    op.drop_table("merchants")
    op.drop_table("campaigns")
    drop_plumbing_tables(op.get_bind())
