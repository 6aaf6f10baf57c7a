"""Tables of the reporting service: the event log and the read model built from it.

Every read-model row is keyed by what an event names (a campaign, a township, a
voucher serial, a beneficiary), and every handler either sets a value or adds to a
counter, so the figures do not depend on the order in which events arrive.
"""

from sqlalchemy import (JSON, Boolean, Column, Date, DateTime, Integer, MetaData,
                        String, Table, Text)

from aixin.plumbing import Identity

metadata = MetaData()

# Every consumed event, so that ``rebuild`` can replay the history into the model.
event_log = Table(
    "event_log", metadata,
    Column("position", Identity, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("event_type", String(64), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("data", JSON, nullable=False),
)

campaigns = Table(
    "campaigns", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("config", JSON),
    Column("funds_expected_fen", Integer, nullable=False, default=0),
    Column("funds_received_fen", Integer, nullable=False, default=0),
    Column("merchants_paid_fen", Integer, nullable=False, default=0),
    Column("district_refund_fen", Integer),
    Column("reminders_sent", Integer, nullable=False, default=0),
)

townships = Table(
    "townships", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("township_code", String(12), primary_key=True),
    Column("name", String(120)),
    Column("eligible_published", Integer, nullable=False, default=0),
    # Roster amendments after publication: +1 per person added, -1 per person removed.
    Column("eligible_amended", Integer, nullable=False, default=0),
    Column("allocated_fen", Integer, nullable=False, default=0),
    Column("cleared_reimbursed_fen", Integer),
    Column("refund_fen", Integer),
)

beneficiaries = Table(
    "beneficiaries", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("beneficiary_id", String(64), primary_key=True),
    Column("township_code", String(12), nullable=False),
    Column("village", String(120)),
    Column("removed", Boolean, nullable=False, default=False),
)

# One row per voucher serial; each column is set by the one event that concerns it.
vouchers = Table(
    "vouchers", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("serial", String(40), primary_key=True),
    Column("township_code", String(12), nullable=False, index=True),
    Column("printed_on", Date),
    Column("beneficiary_id", String(64)),
    Column("beneficiary_name", String(120)),
    Column("masked_id", String(32)),
    Column("village", String(120)),
    Column("issued_on", Date, index=True),
    Column("late", Boolean),
    Column("voided_on", Date),
    Column("redemption_id", String(64)),
    Column("redeemed_on", Date, index=True),
    Column("voucher_part_fen", Integer),
    Column("paid_by_person_fen", Integer),
    Column("audit_status", String(10)),
    Column("audited_at", DateTime(timezone=True)),
)

# The open cash-out flags of the latest ``cashout_flags_changed`` per campaign: the
# highest version replaces the whole list.
flag_checks = Table(
    "flag_checks", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("checked_at", DateTime(timezone=True), nullable=False),
)

open_flags = Table(
    "open_flags", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("flag_id", String(64), primary_key=True),
    Column("rule", String(40), nullable=False),
    Column("label", String(200), nullable=False),
    Column("explanation", Text, nullable=False),
    Column("merchant_code", String(18), nullable=False),
)

# The vouchers each open flag names; a flag counts in every township it touches.
open_flag_vouchers = Table(
    "open_flag_vouchers", metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("flag_id", String(64), primary_key=True),
    Column("serial", String(40), primary_key=True),
    Column("township_code", String(12), nullable=False, index=True),
)

READ_MODEL_TABLES = (vouchers, beneficiaries, townships, campaigns, flag_checks,
                     open_flags, open_flag_vouchers)
