"""On PostgreSQL each snapshot's persons live in a partition of their own.

``persons`` is partitioned by ``snapshot_id`` (migration 0002). An import creates its
snapshot's partition as a plain table without indexes, fills it, then builds the
indexes in one sorted pass each and attaches it, all in the import's transaction.
Building an index over a million rows at once costs about half of maintaining it
row by row as they arrive, which is most of the import's database time
(docs/benchmarks.md). Until the attach, no other transaction can see the table; a
failed import rolls it back with everything else.

Rows added later (amendments) go through ``persons`` into the same partition.
"""

import re

# The partition's indexes, as migration 0002 defines them on ``persons``: ATTACH
# PARTITION adopts an index of the partition only if it matches the parent's.
_INDEXES = (
    "ALTER TABLE {table} ADD PRIMARY KEY (snapshot_id, beneficiary_id)",
    "CREATE INDEX ON {table} (snapshot_id, township_code, beneficiary_id)",
    "CREATE UNIQUE INDEX ON {table} (snapshot_id, id_hash)",
)
_SNAPSHOT_ID = re.compile(r"[0-9a-f]{32}")


def partition_name(snapshot_id: str) -> str:
    """Return the partition table of a snapshot, whose id is 32 hexadecimal digits."""
    if not _SNAPSHOT_ID.fullmatch(snapshot_id):
        raise ValueError(f"not a snapshot id: {snapshot_id!r}")
    return f"persons_{snapshot_id}"


def create_partition(connection, snapshot_id: str) -> str:
    """Create the snapshot's empty partition table, not yet attached; return its name.

    Its CHECK constraint matches the partition bound, so attaching it needs no scan.
    """
    table = partition_name(snapshot_id)
    connection.exec_driver_sql(
        f"CREATE TABLE {table} (LIKE persons INCLUDING DEFAULTS, "
        f"CHECK (snapshot_id = '{snapshot_id}'))")
    return table


def index_and_attach(connection, snapshot_id: str) -> None:
    """Build the partition's indexes, attach it to ``persons`` and analyze it.

    Without fresh statistics (autovacuum may be off, or not have run yet) the
    planner sorted all remaining rows for every page that publishing reads.
    """
    table = partition_name(snapshot_id)
    for statement in _INDEXES:
        connection.exec_driver_sql(statement.format(table=table))
    connection.exec_driver_sql(
        f"ALTER TABLE persons ATTACH PARTITION {table} FOR VALUES IN ('{snapshot_id}')")
    connection.exec_driver_sql(f"ANALYZE {table}")
