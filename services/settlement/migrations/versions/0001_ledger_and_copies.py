"""The transfers ledger, the copies of campaigns, townships, merchants and
redemptions, and the shared plumbing tables.

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


def upgrade() -> None:
    create_plumbing_tables(op.get_bind())
    op.create_table(
        "campaigns",
        sa.Column("campaign_id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("district_name", sa.String(50), nullable=False),
        sa.Column("face_value_fen", sa.Integer, nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("allocation_approved_at", sa.DateTime(timezone=True)),
        sa.Column("allocation_approved_by", sa.String(120)),
        sa.Column("district_cleared_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "townships",
        sa.Column("campaign_id", sa.String(40), primary_key=True),
        sa.Column("township_code", sa.String(12), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("published_eligible", sa.Integer, nullable=False),
        sa.Column("eligible", sa.Integer, nullable=False),
        sa.Column("snapshot_id", sa.String(64), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "merchants",
        sa.Column("campaign_id", sa.String(40), primary_key=True),
        sa.Column("merchant_code", sa.String(18), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("township_codes", sa.JSON, nullable=False),
    )
    op.create_table(
        "redemptions",
        sa.Column("redemption_id", sa.String(64), primary_key=True),
        sa.Column("campaign_id", sa.String(40), nullable=False, index=True),
        sa.Column("township_code", sa.String(12), nullable=False),
        sa.Column("merchant_code", sa.String(40), nullable=False),
        sa.Column("serial", sa.String(32), nullable=False),
        sa.Column("voucher_part_fen", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("redeemed_at", sa.DateTime(timezone=True)),
        sa.Column("audit_id", sa.String(64)),
        sa.Column("audited_at", sa.DateTime(timezone=True)),
        sa.Column("audit_reason", sa.Text),
        sa.Column("reimbursement_transfer_id", sa.String(36)),
    )
    op.create_table(
        "transfers",
        sa.Column("position", Identity, primary_key=True, autoincrement=True),
        sa.Column("transfer_id", sa.String(36), nullable=False, unique=True),
        sa.Column("campaign_id", sa.String(40), nullable=False, index=True),
        sa.Column("debit", sa.String(40), nullable=False, index=True),
        sa.Column("credit", sa.String(40), nullable=False, index=True),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("source_event_id", sa.String(160), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("memo", sa.Text, nullable=False),
        sa.Column("reverses", sa.String(36)),
        sa.UniqueConstraint("source_event_id", "reason",
                            name="uq_transfers_source_reason"),
    )


def downgrade() -> None:
    for table in ("transfers", "redemptions", "merchants", "townships", "campaigns"):
        op.drop_table(table)
    drop_plumbing_tables(op.get_bind())
