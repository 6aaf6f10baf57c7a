"""Tables of the roster service (Civil Affairs Bureau): snapshots and their persons.

A snapshot is one import of a campaign's roster files. Its ``persons`` rows and its
``rejections`` are written once. After publication they are never updated: later
corrections are rows of ``amendments``, and a person added by an amendment is a new
``persons`` row whose ``added_by`` names that amendment.
"""

from sqlalchemy import (JSON, Boolean, Column, Date, DateTime, Index, Integer,
                        MetaData, String, Table, Text, UniqueConstraint)

from aixin.plumbing import Identity

metadata = MetaData()

campaigns = Table(
    "campaigns", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("district_code", String(6), nullable=False),
    Column("district_name", String(50), nullable=False),
    Column("snapshot_month", String(7), nullable=False),
    Column("face_value_fen", Integer, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

snapshots = Table(
    "snapshots", metadata,
    Column("snapshot_id", String(32), primary_key=True),
    Column("campaign_id", String(40), nullable=False, index=True),
    # SHA-256 of the sorted SHA-256 digests of the files: the same set of files
    # uploaded again has the same content hash.
    Column("content_hash", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # draft or published
    Column("files", JSON, nullable=False),  # [{filename, sha256, size}]
    Column("report", JSON, nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("imported_by", String(120), nullable=False),
    Column("published_at", DateTime(timezone=True)),
    Column("published_by", String(120)),
    UniqueConstraint("campaign_id", "content_hash", name="uq_snapshots_content"),
)

rejections = Table(
    "rejections", metadata,
    Column("id", Identity, primary_key=True, autoincrement=True),
    Column("snapshot_id", String(32), nullable=False),
    Column("position", Integer, nullable=False),
    Column("file", String(200), nullable=False),
    Column("sheet", String(100)),
    Column("row_number", Integer, nullable=False),
    Column("column", String(100), nullable=False),
    Column("value", Text),  # masked: an ID number shows only its first 6 and last 4
    Column("reason", String(40), nullable=False),
    Column("message", Text, nullable=False),
    Index("ix_rejections_snapshot", "snapshot_id", "position"),
)

persons = Table(
    "persons", metadata,
    Column("snapshot_id", String(32), primary_key=True),
    Column("beneficiary_id", String(24), primary_key=True),
    Column("id_hash", String(64), nullable=False),  # HMAC-SHA256 of the ID number
    Column("id_encrypted", Text, nullable=False),  # Fernet token of the ID number
    Column("masked_id", String(18), nullable=False),
    Column("name", String(100), nullable=False),
    Column("township_code", String(12), nullable=False),
    Column("township_name", String(60), nullable=False),
    Column("village", String(120)),
    Column("categories", String(60), nullable=False),  # sorted, comma-separated
    Column("support_mode", String(16), nullable=False),
    Column("institution", String(200)),
    Column("added_by", String(32)),  # the amendment that added the person, if any
    Index("ix_persons_township", "snapshot_id", "township_code", "beneficiary_id"),
    Index("ix_persons_id_hash", "snapshot_id", "id_hash", unique=True),
)

amendments = Table(
    "amendments", metadata,
    Column("amendment_id", String(32), primary_key=True),
    Column("snapshot_id", String(32), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("kind", String(16), nullable=False),  # remove, add or change
    Column("reason", String(32), nullable=False),
    Column("note", Text),
    Column("beneficiary_id", String(24), nullable=False),
    Column("changes", JSON),  # the new village and institution of a change or add
    Column("before_publication", Boolean, nullable=False),
    Column("source", String(32), nullable=False),  # manual or death_registration
    Column("operator", String(120), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("snapshot_id", "sequence", name="uq_amendments_sequence"),
    Index("ix_amendments_beneficiary", "snapshot_id", "beneficiary_id"),
)

death_reviews = Table(
    "death_reviews", metadata,
    Column("id", Identity, primary_key=True, autoincrement=True),
    Column("snapshot_id", String(32), nullable=False),
    Column("beneficiary_id", String(24), nullable=False),
    Column("died_on", Date, nullable=False),
    Column("file", String(200), nullable=False),
    Column("row_number", Integer, nullable=False),
    Column("registered_by", String(120), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("snapshot_id", "beneficiary_id", name="uq_death_reviews_person"),
)
