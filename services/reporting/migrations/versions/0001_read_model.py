"""The event log, the reporting read model and the shared plumbing tables.

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
        "event_log",
        sa.Column("position", Identity, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_table(
        "campaigns",
        sa.Column("campaign_id", sa.String(40), primary_key=True),
        sa.Column("config", sa.JSON),
        sa.Column("funds_expected_fen", sa.Integer, nullable=False),
        sa.Column("funds_received_fen", sa.Integer, nullable=False),
        sa.Column("merchants_paid_fen", sa.Integer, nullable=False),
        sa.Column("district_refund_fen", sa.Integer),
        sa.Column("reminders_sent", sa.Integer, nullable=False),
    )
    op.create_table(
        "townships",
        sa.Column("campaign_id", sa.String(40), primary_key=True),
        sa.Column("township_code", sa.String(12), primary_key=True),
        sa.Column("name", sa.String(120)),
        sa.Column("eligible_published", sa.Integer, nullable=False),
        sa.Column("eligible_amended", sa.Integer, nullable=False),
        sa.Column("allocated_fen", sa.Integer, nullable=False),
        sa.Column("cleared_reimbursed_fen", sa.Integer),
        sa.Column("refund_fen", sa.Integer),
    )
    op.create_table(
        "beneficiaries",
        sa.Column("campaign_id", sa.String(40), primary_key=True),
        sa.Column("beneficiary_id", sa.String(64), primary_key=True),
        sa.Column("township_code", sa.String(12), nullable=False),
        sa.Column("village", sa.String(120)),
        sa.Column("removed", sa.Boolean, nullable=False),
    )
    op.create_table(
        "vouchers",
        sa.Column("campaign_id", sa.String(40), primary_key=True),
        sa.Column("serial", sa.String(40), primary_key=True),
        sa.Column("township_code", sa.String(12), nullable=False, index=True),
        sa.Column("printed_on", sa.Date),
        sa.Column("beneficiary_id", sa.String(64)),
        sa.Column("beneficiary_name", sa.String(120)),
        sa.Column("masked_id", sa.String(32)),
        sa.Column("village", sa.String(120)),
        sa.Column("issued_on", sa.Date, index=True),
        sa.Column("late", sa.Boolean),
        sa.Column("voided_on", sa.Date),
        sa.Column("redemption_id", sa.String(64)),
        sa.Column("redeemed_on", sa.Date, index=True),
        sa.Column("voucher_part_fen", sa.Integer),
        sa.Column("paid_by_person_fen", sa.Integer),
        sa.Column("audit_status", sa.String(10)),
        sa.Column("audited_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    for table in ("vouchers", "beneficiaries", "townships", "campaigns", "event_log"):
        op.drop_table(table)
    drop_plumbing_tables(op.get_bind())
