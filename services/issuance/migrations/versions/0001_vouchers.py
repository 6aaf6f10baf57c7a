"""Campaign copies, beneficiaries, print batches, vouchers and the plumbing tables.

Revision ID: 0001
Revises:
"""
from alembic import op

from aixin.plumbing import create_plumbing_tables, drop_plumbing_tables
from services.issuance.models import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_plumbing_tables(op.get_bind())
    # NOTE: this revision creates the tables as models.py defines them today. A later
    # change of models.py needs its own revision with explicit operations.
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
    drop_plumbing_tables(op.get_bind())
