"""Vouchers, roster removals, redemptions, statements and audits.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vouchers",
        sa.Column("serial", sa.String(18), primary_key=True),
        sa.Column("campaign_id", sa.String(40), nullable=False, index=True),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("township_code", sa.String(12)),
        sa.Column("printed_township_code", sa.String(12)),
        sa.Column("printed_by_merchant", sa.String(18)),
        sa.Column("print_batch_id", sa.String(64)),
        sa.Column("printed_at", sa.DateTime(timezone=True)),
        sa.Column("beneficiary_id", sa.String(64)),
        sa.Column("village", sa.String(200)),
        sa.Column("institution", sa.String(200)),
        sa.Column("issued_at", sa.DateTime(timezone=True)),
        sa.Column("voided_at", sa.DateTime(timezone=True)),
        sa.Column("void_reason", sa.String(200)),
        sa.Column("redeemed_at", sa.DateTime(timezone=True)),
        sa.Column("redemption_id", sa.String(36)),
    )
    op.create_table(
        "roster_removals",
        sa.Column("campaign_id", sa.String(40), primary_key=True),
        sa.Column("beneficiary_id", sa.String(64), primary_key=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
    )
    op.create_table(
        "redemptions",
        sa.Column("redemption_id", sa.String(36), primary_key=True),
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("serial", sa.String(18), nullable=False, unique=True),
        sa.Column("merchant_code", sa.String(18), nullable=False),
        sa.Column("township_code", sa.String(12), nullable=False),
        sa.Column("store_id", sa.String(64)),
        sa.Column("till_session", sa.String(64)),
        sa.Column("till_transaction_id", sa.String(64), nullable=False),
        sa.Column("lines", sa.JSON, nullable=False),
        sa.Column("total_fen", sa.BigInteger, nullable=False),
        sa.Column("voucher_part_fen", sa.BigInteger, nullable=False),
        sa.Column("paid_by_person_fen", sa.BigInteger, nullable=False),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("redeemed_by", sa.String(120), nullable=False),
        sa.Column("match_status", sa.String(20), nullable=False),
        sa.Column("match_statement_id", sa.String(36)),
        sa.Column("audit_state", sa.String(10), nullable=False),
        sa.Column("audit_id", sa.String(36)),
        sa.Column("audit_reason", sa.String(500)),
    )
    op.create_index("ix_redemptions_merchant_time", "redemptions",
                    ["campaign_id", "merchant_code", "redeemed_at"])
    op.create_table(
        "statements",
        sa.Column("statement_id", sa.String(36), primary_key=True),
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("merchant_code", sa.String(18), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("period_from", sa.Date, nullable=False),
        sa.Column("period_to", sa.Date, nullable=False),
        sa.Column("row_count", sa.Integer, nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by", sa.String(120), nullable=False),
        sa.UniqueConstraint("campaign_id", "merchant_code", "sha256",
                            name="uq_statements_content"),
    )
    op.create_table(
        "audits",
        sa.Column("audit_id", sa.String(36), primary_key=True),
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("merchant_code", sa.String(18), nullable=False),
        sa.Column("period_from", sa.Date, nullable=False),
        sa.Column("period_to", sa.Date, nullable=False),
        sa.Column("approved_count", sa.Integer, nullable=False),
        sa.Column("approved_fen", sa.BigInteger, nullable=False),
        sa.Column("rejected_count", sa.Integer, nullable=False),
        sa.Column("audited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("audited_by", sa.String(120), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audits")
    op.drop_table("statements")
    op.drop_index("ix_redemptions_merchant_time", table_name="redemptions")
    op.drop_table("redemptions")
    op.drop_table("roster_removals")
    op.drop_table("vouchers")
