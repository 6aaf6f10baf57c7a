"""API tokens and the shared plumbing tables.

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
        "api_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("token_id", sa.String(16), nullable=False, unique=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(32)),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    drop_plumbing_tables(op.get_bind())
