"""Tables of the settlement service (Finance Bureau).

``transfers`` is the ledger: immutable rows in posting order, one per movement of
money. The other tables are settlement's own copies of what other services announced:
the campaign, each township's eligible count, the designated merchants and every
redemption with its audit status.
"""

from sqlalchemy import (JSON, BigInteger, Column, DateTime, Integer, MetaData, String,
                        Table, Text, UniqueConstraint)

from aixin.plumbing import Identity

metadata = MetaData()

campaigns = Table(
    "campaigns", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("district_name", String(50), nullable=False),
    Column("face_value_fen", Integer, nullable=False),
    Column("config", JSON, nullable=False),
    # Set when finance approves the allocation. Later amendments post adjustments.
    Column("allocation_approved_at", DateTime(timezone=True)),
    Column("allocation_approved_by", String(120)),
    Column("district_cleared_at", DateTime(timezone=True)),
)

townships = Table(
    "townships", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("township_code", String(12), primary_key=True),
    Column("name", String(100), nullable=False),
    # Count in the published roster, which fixes the expected pre-allocation.
    Column("published_eligible", Integer, nullable=False),
    # Published count changed by the roster amendments received since.
    Column("eligible", Integer, nullable=False),
    Column("snapshot_id", String(64), nullable=False),
    Column("cleared_at", DateTime(timezone=True)),
)

merchants = Table(
    "merchants", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("merchant_code", String(18), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("township_codes", JSON, nullable=False),
)

redemptions = Table(
    "redemptions", metadata,
    Column("redemption_id", String(64), primary_key=True),
    Column("campaign_id", String(40), nullable=False, index=True),
    Column("township_code", String(12), nullable=False),
    Column("merchant_code", String(40), nullable=False),
    Column("serial", String(32), nullable=False),
    Column("voucher_part_fen", BigInteger, nullable=False),
    # pending, approved or rejected: the values of domain.reimbursement.AuditStatus.
    Column("status", String(16), nullable=False),
    Column("redeemed_at", DateTime(timezone=True)),
    Column("audit_id", String(64)),
    Column("audited_at", DateTime(timezone=True)),
    Column("audit_reason", Text),
    # The reimbursement posted for the current approval, reversed if it is withdrawn.
    Column("reimbursement_transfer_id", String(36)),
)

transfers = Table(
    "transfers", metadata,
    Column("position", Identity, primary_key=True, autoincrement=True),
    Column("transfer_id", String(36), nullable=False, unique=True),
    Column("campaign_id", String(40), nullable=False, index=True),
    Column("debit", String(40), nullable=False, index=True),
    Column("credit", String(40), nullable=False, index=True),
    Column("amount_fen", BigInteger, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("source_event_id", String(160), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("memo", Text, nullable=False),
    Column("reverses", String(36)),
    UniqueConstraint("source_event_id", "reason", name="uq_transfers_source_reason"),
)
