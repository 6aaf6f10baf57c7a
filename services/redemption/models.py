"""Tables of the redemption service (Commerce Bureau): campaigns and merchants."""

from sqlalchemy import (JSON, Boolean, Column, Date, DateTime, ForeignKey, Integer,
                        MetaData, String, Table)

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
