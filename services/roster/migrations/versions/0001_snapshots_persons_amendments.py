"""Campaigns, roster snapshots, persons, rejections, amendments, death reviews.

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

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_plumbing_tables(op.get_bind())
    op.create_table(
        "campaigns",
        sa.Column("campaign_id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("district_code", sa.String(6), nullable=False),
        sa.Column("district_name", sa.String(50), nullable=False),
        sa.Column("snapshot_month", sa.String(7), nullable=False),
        sa.Column("face_value_fen", sa.Integer, nullable=False),
        sa.Column("received_at", MOMENT, nullable=False),
    )
    op.create_table(
        "snapshots",
        sa.Column("snapshot_id", sa.String(32), primary_key=True),
        sa.Column("campaign_id", sa.String(40), nullable=False, index=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("files", sa.JSON, nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("imported_at", MOMENT, nullable=False),
        sa.Column("imported_by", sa.String(120), nullable=False),
        sa.Column("published_at", MOMENT),
        sa.Column("published_by", sa.String(120)),
        sa.UniqueConstraint("campaign_id", "content_hash", name="uq_snapshots_content"),
    )
    op.create_table(
        "rejections",
        sa.Column("id", Identity, primary_key=True, autoincrement=True),
        sa.Column("snapshot_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("file", sa.String(200), nullable=False),
        sa.Column("sheet", sa.String(100)),
        sa.Column("row_number", sa.Integer, nullable=False),
        sa.Column("column", sa.String(100), nullable=False),
        sa.Column("value", sa.Text),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("ix_rejections_snapshot", "rejections", ["snapshot_id", "position"])
    op.create_table(
        "persons",
        sa.Column("snapshot_id", sa.String(32), primary_key=True),
        sa.Column("beneficiary_id", sa.String(24), primary_key=True),
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("id_encrypted", sa.Text, nullable=False),
        sa.Column("masked_id", sa.String(18), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("township_code", sa.String(12), nullable=False),
        sa.Column("township_name", sa.String(60), nullable=False),
        sa.Column("village", sa.String(120)),
        sa.Column("categories", sa.String(60), nullable=False),
        sa.Column("support_mode", sa.String(16), nullable=False),
        sa.Column("institution", sa.String(200)),
        sa.Column("added_by", sa.String(32)),
    )
    op.create_index("ix_persons_township", "persons",
                    ["snapshot_id", "township_code", "beneficiary_id"])
    op.create_index("ix_persons_id_hash", "persons", ["snapshot_id", "id_hash"],
                    unique=True)
    op.create_table(
        "amendments",
        sa.Column("amendment_id", sa.String(32), primary_key=True),
        sa.Column("snapshot_id", sa.String(32), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("beneficiary_id", sa.String(24), nullable=False),
        sa.Column("changes", sa.JSON),
        sa.Column("before_publication", sa.Boolean, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("operator", sa.String(120), nullable=False),
        sa.Column("occurred_at", MOMENT, nullable=False),
        sa.UniqueConstraint("snapshot_id", "sequence", name="uq_amendments_sequence"),
    )
    op.create_index("ix_amendments_beneficiary", "amendments",
                    ["snapshot_id", "beneficiary_id"])
    op.create_table(
        "death_reviews",
        sa.Column("id", Identity, primary_key=True, autoincrement=True),
        sa.Column("snapshot_id", sa.String(32), nullable=False),
        sa.Column("beneficiary_id", sa.String(24), nullable=False),
        sa.Column("died_on", sa.Date, nullable=False),
        sa.Column("file", sa.String(200), nullable=False),
        sa.Column("row_number", sa.Integer, nullable=False),
        sa.Column("registered_by", sa.String(120), nullable=False),
        sa.Column("registered_at", MOMENT, nullable=False),
        sa.UniqueConstraint("snapshot_id", "beneficiary_id",
                            name="uq_death_reviews_person"),
    )


def downgrade() -> None:
    for table in ("death_reviews", "amendments", "persons", "rejections", "snapshots",
                  "campaigns"):
        op.drop_table(table)
    drop_plumbing_tables(op.get_bind())
