"""The open cash-out flags announced by the redemption service.

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
        "flag_checks",
        sa.Column("campaign_id", sa.String(40), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "open_flags",
        sa.Column("campaign_id", sa.String(40), primary_key=True),
        sa.Column("flag_id", sa.String(64), primary_key=True),
        sa.Column("rule", sa.String(40), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("merchant_code", sa.String(18), nullable=False),
    )
    op.create_table(
        "open_flag_vouchers",
        sa.Column("campaign_id", sa.String(40), primary_key=True),
        sa.Column("flag_id", sa.String(64), primary_key=True),
        sa.Column("serial", sa.String(40), primary_key=True),
        sa.Column("township_code", sa.String(12), nullable=False, index=True),
    )


def downgrade() -> None:
    for table in ("open_flag_vouchers", "open_flags", "flag_checks"):
        op.drop_table(table)
