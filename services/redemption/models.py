"""Tables of the redemption service (Commerce Bureau): campaigns, merchants,
vouchers, redemptions, statements and audits."""

from sqlalchemy import (JSON, BigInteger, Boolean, Column, Date, DateTime, ForeignKey,
                        Index, Integer, MetaData, String, Table, UniqueConstraint)

metadata = MetaData()

campaigns = Table(
    "campaigns", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("campaign_no", Integer, nullable=False, unique=True),
    Column("config", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(120), nullable=False),
)

merchants = Table(
    "merchants", metadata,
    Column("campaign_id", String(40), ForeignKey("campaigns.campaign_id"),
           primary_key=True),
    Column("merchant_code", String(18), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("above_size", Boolean, nullable=False),
    Column("stores", Integer, nullable=False),
    Column("contact", String(200)),
    Column("opening_hours", String(20), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    Column("designated_at", DateTime(timezone=True), nullable=False),
    Column("designated_by", String(120), nullable=False),
)

merchant_townships = Table(
    "merchant_townships", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("merchant_code", String(18), primary_key=True),
    Column("township_code", String(12), primary_key=True, index=True),
)

# What this service knows of each voucher, built from the issuance service's events.
# ``state`` is printed, issued, voided or redeemed. A voucher_issued event that arrives
# before its vouchers_printed event creates the row, so print columns may stay empty.
vouchers = Table(
    "vouchers", metadata,
    Column("serial", String(18), primary_key=True),
    Column("campaign_id", String(40), nullable=False, index=True),
    Column("state", String(12), nullable=False),
    Column("township_code", String(12)),
    Column("printed_township_code", String(12)),
    Column("printed_by_merchant", String(18)),
    Column("print_batch_id", String(64)),
    Column("printed_at", DateTime(timezone=True)),
    Column("beneficiary_id", String(64)),
    Column("village", String(200)),
    Column("institution", String(200)),
    Column("issued_at", DateTime(timezone=True)),
    Column("voided_at", DateTime(timezone=True)),
    Column("void_reason", String(200)),
    Column("redeemed_at", DateTime(timezone=True)),
    Column("redemption_id", String(36)),
)

# Beneficiaries removed from the roster by an amendment, for the cash-out flag rule.
roster_removals = Table(
    "roster_removals", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("beneficiary_id", String(64), primary_key=True),
    Column("removed_at", DateTime(timezone=True), nullable=False),
    Column("reason", String(500), nullable=False),
)

# One row per redeemed voucher: the unique serial is the second guard, after the
# conditional update of ``vouchers``, against redeeming a voucher twice.
redemptions = Table(
    "redemptions", metadata,
    Column("redemption_id", String(36), primary_key=True),
    Column("campaign_id", String(40), nullable=False),
    Column("serial", String(18), nullable=False, unique=True),
    Column("merchant_code", String(18), nullable=False),
    Column("township_code", String(12), nullable=False),
    Column("store_id", String(64)),
    Column("till_session", String(64)),
    Column("till_transaction_id", String(64), nullable=False),
    Column("lines", JSON, nullable=False),
    Column("total_fen", BigInteger, nullable=False),
    Column("voucher_part_fen", BigInteger, nullable=False),
    Column("paid_by_person_fen", BigInteger, nullable=False),
    Column("redeemed_at", DateTime(timezone=True), nullable=False),
    Column("redeemed_by", String(120), nullable=False),
    Column("match_status", String(20), nullable=False),
    Column("match_statement_id", String(36)),
    Column("audit_state", String(10), nullable=False),
    Column("audit_id", String(36)),
    Column("audit_reason", String(500)),
    Index("ix_redemptions_merchant_time", "campaign_id", "merchant_code",
          "redeemed_at"),
)

# Till exports uploaded by merchants; the content hash makes a second upload a no-op.
statements = Table(
    "statements", metadata,
    Column("statement_id", String(36), primary_key=True),
    Column("campaign_id", String(40), nullable=False),
    Column("merchant_code", String(18), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("period_from", Date, nullable=False),
    Column("period_to", Date, nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("report", JSON, nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
    Column("uploaded_by", String(120), nullable=False),
    UniqueConstraint("campaign_id", "merchant_code", "sha256",
                     name="uq_statements_content"),
)

audits = Table(
    "audits", metadata,
    Column("audit_id", String(36), primary_key=True),
    Column("campaign_id", String(40), nullable=False),
    Column("merchant_code", String(18), nullable=False),
    Column("period_from", Date, nullable=False),
    Column("period_to", Date, nullable=False),
    Column("approved_count", Integer, nullable=False),
    Column("approved_fen", BigInteger, nullable=False),
    Column("rejected_count", Integer, nullable=False),
    Column("audited_at", DateTime(timezone=True), nullable=False),
    Column("audited_by", String(120), nullable=False),
)

# The open cash-out flags last announced per campaign (``cashout_flags_changed``):
# ``marker`` summarises the rows the flags depend on, so a check whose marker is
# unchanged skips the rules, and ``fingerprint`` identifies the announced list.
flag_checks = Table(
    "flag_checks", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("marker", String(200), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("open_flags", JSON, nullable=False),
    Column("checked_at", DateTime(timezone=True), nullable=False),
)
