"""Running the domain's cash-out flag rules over recorded redemptions.

Thresholds come from the campaign's ``cashout_thresholds`` setting; a threshold it
does not name takes the default below. Reading the rows (``load_inputs``) and running
the rules over them (``evaluate``, no I/O) are apart, so that a caller can run the
rules off the eventlet hub.
"""

from dataclasses import dataclass
from datetime import time
from decimal import Decimal

from sqlalchemy import select

from services.redemption.campaigns import load_campaign
from services.redemption.domain import cashout
from services.redemption.domain.statement import StatementLine
from services.redemption.models import merchants, redemptions, roster_removals, vouchers
from services.redemption.timestamps import aware

# NOTE: policy defaults chosen without field data; each campaign should set its own.
DEFAULT_THRESHOLDS = {
    "village_burst_min_count": 5,
    "village_burst_window_minutes": 30,
    "consecutive_serials_min_run": 5,
    "consecutive_serials_window_minutes": 30,
    "identical_baskets_min_repeats": 5,
    "identical_baskets_min_lines": 3,
    "institution_basket_min_count": 5,
    "institution_basket_window_minutes": 30,
    "merchant_volume_max_per_store": 500,
}



def thresholds_of(campaign: dict) -> dict:
    return {**DEFAULT_THRESHOLDS, **(campaign.get("cashout_thresholds") or {})}


@dataclass(frozen=True)
class FlagInputs:
    """Input rows of the rules: the campaign, its redemption rows, merchants, removals."""

    campaign_id: str
    campaign: dict
    merchant_code: str | None
    redemption_rows: list
    merchant_rows: list
    removed: dict


def cashout_flags(session, campaign_id: str, merchant_code: str | None = None) -> dict:
    """Return every flag over the campaign's redemptions, or one merchant's."""
    return evaluate(load_inputs(session, campaign_id, merchant_code))


def load_inputs(session, campaign_id: str, merchant_code: str | None = None):
    """Read what the rules need, for the campaign or one merchant."""
    campaign = load_campaign(session, campaign_id)
    merchant_rows = session.execute(
        select(merchants).where(merchants.c.campaign_id == campaign_id)).all()
    removed = {row.beneficiary_id: aware(row.removed_at) for row in session.execute(
        select(roster_removals).where(roster_removals.c.campaign_id == campaign_id))}
    return FlagInputs(campaign_id, campaign, merchant_code,
                      _redemption_rows(session, campaign_id, merchant_code),
                      merchant_rows, removed)


def evaluate(inputs: FlagInputs) -> dict:
    """Run every rule over the rows read by ``load_inputs``; return the flags."""
    campaign, merchant_rows, removed = (inputs.campaign, inputs.merchant_rows,
                                        inputs.removed)
    limits = thresholds_of(campaign)
    records = [_record(row) for row in inputs.redemption_rows]
    hours = {merchant.merchant_code: _opening_hours(merchant.opening_hours)
             for merchant in merchant_rows}
    flags = [
        *cashout.village_bursts(
            records, min_count=limits["village_burst_min_count"],
            window_minutes=limits["village_burst_window_minutes"]),
        *cashout.consecutive_serials(
            records, min_run=limits["consecutive_serials_min_run"],
            window_minutes=limits["consecutive_serials_window_minutes"]),
        *cashout.identical_baskets(
            records, min_repeats=limits["identical_baskets_min_repeats"],
            min_lines=limits["identical_baskets_min_lines"]),
        *cashout.single_line_face_value(
            records, face_value_fen=campaign["face_value_fen"]),
        *cashout.institution_baskets(
            records, min_count=limits["institution_basket_min_count"],
            window_minutes=limits["institution_basket_window_minutes"]),
        *cashout.outside_opening_hours(
            records, opening_hours={record.store_id: hours[record.merchant_id]
                                    for record in records
                                    if record.merchant_id in hours}),
        *cashout.removed_from_roster(records, removed_at=removed),
        *cashout.merchant_volume(
            records, store_counts={m.merchant_code: m.stores for m in merchant_rows},
            max_per_store=limits["merchant_volume_max_per_store"]),
    ]
    return {"campaign_id": inputs.campaign_id, "merchant_code": inputs.merchant_code,
            "thresholds": limits, "redemptions_checked": len(records),
            "flags": [_flag_view(flag) for flag in flags]}


def _redemption_rows(session, campaign_id, merchant_code) -> list:
    query = (select(redemptions, vouchers.c.village, vouchers.c.institution,
                    vouchers.c.beneficiary_id)
             .join(vouchers, vouchers.c.serial == redemptions.c.serial)
             .where(redemptions.c.campaign_id == campaign_id))
    if merchant_code:
        query = query.where(redemptions.c.merchant_code == merchant_code)
    return session.execute(query).all()


def _record(row) -> cashout.RedemptionRecord:
    return cashout.RedemptionRecord(
        redemption_id=row.redemption_id, serial=row.serial,
        merchant_id=row.merchant_code,
        # A redemption without a store id counts under its merchant's hours.
        store_id=row.store_id or row.merchant_code,
        redeemed_at=aware(row.redeemed_at), total_fen=row.total_fen,
        lines=tuple(StatementLine(
            name=line["item"], category=line["category"],
            quantity=Decimal(line["quantity"]),
            unit_price_fen=line["unit_price_fen"], amount_fen=line["amount_fen"])
            for line in row.lines),
        village_code=row.village or "", institution_id=row.institution,
        beneficiary_id=row.beneficiary_id or "", till_session=row.till_session)


def _opening_hours(text: str) -> cashout.OpeningHours:
    opens, closes = text.split("-")
    return cashout.OpeningHours(time.fromisoformat(opens), time.fromisoformat(closes))


def _flag_view(flag) -> dict:
    return {"rule": flag.rule, "label": cashout.RULE_LABELS[flag.rule],
            "redemption_ids": list(flag.redemption_ids),
            "explanation": flag.explanation, "figures": dict(flag.figures)}
