"""Partition persons by snapshot on PostgreSQL.

An import then fills its snapshot's partition without indexes and builds them at
the end (services/roster/partitions.py), which halves its database time for a
million persons. The existing rows move into one partition per snapshot. SQLite
keeps the single table.

Revision ID: 0002
Revises: 0001
"""
import re

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = """
    snapshot_id varchar(32) NOT NULL,
    beneficiary_id varchar(24) NOT NULL,
    id_hash varchar(64) NOT NULL,
    id_encrypted text NOT NULL,
    masked_id varchar(18) NOT NULL,
    name varchar(100) NOT NULL,
    township_code varchar(12) NOT NULL,
    township_name varchar(60) NOT NULL,
    village varchar(120),
    categories varchar(60) NOT NULL,
    support_mode varchar(16) NOT NULL,
    institution varchar(200),
    added_by varchar(32)
"""
INDEXES = """
    CREATE INDEX ix_persons_township ON persons
        (snapshot_id, township_code, beneficiary_id);
    CREATE UNIQUE INDEX ix_persons_id_hash ON persons (snapshot_id, id_hash);
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE persons RENAME TO persons_unpartitioned")
    op.execute("ALTER TABLE persons_unpartitioned "
               "RENAME CONSTRAINT persons_pkey TO persons_unpartitioned_pkey")
    op.execute("ALTER INDEX ix_persons_township RENAME TO ix_persons_unpartitioned_1")
    op.execute("ALTER INDEX ix_persons_id_hash RENAME TO ix_persons_unpartitioned_2")
    op.execute(f"CREATE TABLE persons ({COLUMNS}, "
               "CONSTRAINT persons_pkey PRIMARY KEY (snapshot_id, beneficiary_id)) "
               "PARTITION BY LIST (snapshot_id)")
    op.execute(INDEXES)
    snapshot_ids = [row[0] for row in op.get_bind().exec_driver_sql(
        "SELECT DISTINCT snapshot_id FROM persons_unpartitioned")]
    for snapshot_id in snapshot_ids:
        table = _partition(snapshot_id)
        op.execute(f"CREATE TABLE {table} PARTITION OF persons "
                   f"FOR VALUES IN ('{snapshot_id}')")
        op.execute(f"INSERT INTO {table} SELECT * FROM persons_unpartitioned "
                   f"WHERE snapshot_id = '{snapshot_id}'")
    op.execute("DROP TABLE persons_unpartitioned")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE persons RENAME TO persons_partitioned")
    op.execute("ALTER INDEX ix_persons_township RENAME TO ix_persons_partitioned_1")
    op.execute("ALTER INDEX ix_persons_id_hash RENAME TO ix_persons_partitioned_2")
    op.execute("ALTER TABLE persons_partitioned "
               "RENAME CONSTRAINT persons_pkey TO persons_partitioned_pkey")
    op.execute(f"CREATE TABLE persons ({COLUMNS}, "
               "CONSTRAINT persons_pkey PRIMARY KEY (snapshot_id, beneficiary_id))")
    op.execute(INDEXES)
    op.execute("INSERT INTO persons SELECT * FROM persons_partitioned")
    op.execute("DROP TABLE persons_partitioned")  # and with it every partition


def _partition(snapshot_id: str) -> str:
    # As services/roster/partitions.py names them; import snapshot ids are hex.
    if not re.fullmatch(r"[0-9a-f]{32}", snapshot_id):
        raise ValueError(f"cannot partition persons of snapshot {snapshot_id!r}")
    return f"persons_{snapshot_id}"
