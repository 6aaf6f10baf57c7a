"""Tables of the issuance service: its copies of other bureaus' data and its vouchers.

No table has a foreign key to ``campaigns``: events of different types arrive on
different queues, so a merchant or a beneficiary may arrive before its campaign.
"""

from sqlalchemy import (JSON, Boolean, Column, Date, DateTime, Integer, MetaData,
                        String, Table)

metadata = MetaData()

campaigns = Table(
    "campaigns", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("campaign_no", Integer, nullable=False),
    Column("name", String(100), nullable=False),
    Column("district_name", String(50), nullable=False),
    Column("face_value_fen", Integer, nullable=False),
    Column("spring_festival", Date, nullable=False),
    Column("redemption_deadline", Date, nullable=False),
    Column("spare_share_percent", Integer, nullable=False),
    Column("config", JSON, nullable=False),
)

merchants = Table(
    "merchants", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("merchant_code", String(18), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
)

merchant_townships = Table(
    "merchant_townships", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("merchant_code", String(18), primary_key=True),
    Column("township_code", String(12), primary_key=True, index=True),
)

# One row per township and campaign. ``published_eligible`` is the count of the
# roster publication; ``amendment_delta`` adds roster additions and subtracts
# removals, so the current eligible count is their sum.
townships = Table(
    "townships", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("township_code", String(12), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("published_eligible", Integer),
    Column("amendment_delta", Integer, nullable=False, default=0),
    Column("allocated_fen", Integer, nullable=False, default=0),
    Column("funds_allocated_at", DateTime(timezone=True)),
    Column("last_sequence", Integer, nullable=False, default=0),
    Column("handout_ended_at", DateTime(timezone=True)),
    Column("handout_ended_by", String(120)),
)

# ``status`` is entitled, removed (roster amendment) or deceased (voided as such).
beneficiaries = Table(
    "beneficiaries", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("beneficiary_id", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("masked_id", String(20), nullable=False),
    Column("township_code", String(12), nullable=False, index=True),
    Column("village", String(100)),
    Column("categories", JSON, nullable=False),
    Column("support_mode", String(20), nullable=False),
    Column("institution", String(200)),
    Column("status", String(20), nullable=False),
    Column("status_reason", String(200)),
)

print_batches = Table(
    "print_batches", metadata,
    Column("batch_id", String(40), primary_key=True),
    Column("campaign_id", String(40), nullable=False, index=True),
    Column("township_code", String(12), nullable=False),
    Column("batch_no", Integer, nullable=False),
    Column("merchant_code", String(18), nullable=False),
    Column("eligible_count", Integer, nullable=False),
    Column("voucher_count", Integer, nullable=False),
    Column("first_sequence", Integer, nullable=False),
    Column("last_sequence", Integer, nullable=False),
    Column("printed_at", DateTime(timezone=True), nullable=False),
    Column("printed_by", String(120), nullable=False),
)

institution_collections = Table(
    "institution_collections", metadata,
    Column("collection_id", String(40), primary_key=True),
    Column("campaign_id", String(40), nullable=False),
    Column("township_code", String(12), nullable=False),
    Column("institution", String(200), nullable=False),
    Column("manager_name", String(100), nullable=False),
    Column("manager_masked_id", String(20), nullable=False),
    Column("manager_phone", String(20), nullable=False),
    Column("operator", String(120), nullable=False),
    Column("collected_at", DateTime(timezone=True), nullable=False),
)

# Check codes are never stored: they are recomputed from the serial and the key.
vouchers = Table(
    "vouchers", metadata,
    Column("serial", String(18), primary_key=True),
    Column("campaign_id", String(40), nullable=False),
    Column("township_code", String(12), nullable=False, index=True),
    Column("batch_id", String(40), nullable=False, index=True),
    Column("state", String(20), nullable=False),
    Column("ever_issued", Boolean, nullable=False, default=False),
    Column("beneficiary_id", String(64), index=True),
    Column("recipient_kind", String(30)),
    Column("collection_id", String(40)),
    Column("operator", String(120)),
    Column("issued_at", DateTime(timezone=True)),
    Column("late", Boolean, nullable=False, default=False),
    Column("replaces_serial", String(18)),
    Column("void_reason", String(30)),
    Column("voided_at", DateTime(timezone=True)),
    Column("voided_by", String(120)),
    Column("redemption_id", String(64)),
    Column("redeemed_at", DateTime(timezone=True)),
    Column("redeemed_merchant_code", String(18)),
)
