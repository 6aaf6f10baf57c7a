"""Announcing each campaign's open cash-out flags to reporting when they change.

A flag is open from the moment the rules raise it until the audit has decided every
redemption it names. The redemption service's timer checks each campaign: when the
rows that the rules read are unchanged since the last check it stops there, and
otherwise it runs the rules and, if the open flags differ from those last announced,
records a ``cashout_flags_changed`` event with the whole list and the next version.

The rules run in a reading session and the result is stored in a short transaction
whose conditional update on the version lets only one of several instances announce
a version; the redemption hot path is not touched.
"""

import hashlib
import json
import logging

from sqlalchemy import exc as sa_exc
from sqlalchemy import case, func, insert, select, update

from aixin.outbox import record_event
from services.redemption import flags
from services.redemption.models import (campaigns, flag_checks, merchants,
                                        redemptions, roster_removals)

log = logging.getLogger(__name__)

# The fingerprint of "no open flags": a campaign that never had any announces nothing.
NO_FLAGS = hashlib.sha256(b"[]").hexdigest()


def check_all(database, now) -> int:
    """Check every campaign; return how many ``cashout_flags_changed`` were recorded."""
    with database.reading() as session:
        campaign_ids = session.execute(select(campaigns.c.campaign_id)).scalars().all()
    return sum(check_campaign(database, campaign_id, now)
               for campaign_id in campaign_ids)


def check_campaign(database, campaign_id: str, now) -> bool:
    """Announce the campaign's open flags if they changed; return True if announced."""
    with database.reading() as session:
        marker = _marker(session, campaign_id)
        last = session.execute(select(flag_checks).where(
            flag_checks.c.campaign_id == campaign_id)).first()
        if last is not None and last.marker == marker:
            return False
        open_flags = _open_flags(session, campaign_id)
    fingerprint = _fingerprint(open_flags)
    try:
        with database.transaction() as session:
            if last is None:
                return _first_check(session, campaign_id, marker, fingerprint,
                                    open_flags, now)
            return _next_check(session, last, marker, fingerprint, open_flags, now)
    except sa_exc.IntegrityError:
        # Another instance stored the campaign's first check at the same moment.
        log.info("flag check raced another instance campaign_id=%s", campaign_id)
        return False


def _first_check(session, campaign_id, marker, fingerprint, open_flags, now) -> bool:
    changed = fingerprint != NO_FLAGS
    session.execute(insert(flag_checks).values(
        campaign_id=campaign_id, version=1 if changed else 0, marker=marker,
        fingerprint=fingerprint, open_flags=len(open_flags), checked_at=now))
    if changed:
        _announce(session, campaign_id, 1, open_flags, now)
    return changed


def _next_check(session, last, marker, fingerprint, open_flags, now) -> bool:
    changed = fingerprint != last.fingerprint
    version = last.version + 1 if changed else last.version
    stored = session.execute(update(flag_checks).where(
        flag_checks.c.campaign_id == last.campaign_id,
        flag_checks.c.version == last.version)
        .values(version=version, marker=marker, fingerprint=fingerprint,
                open_flags=len(open_flags), checked_at=now))
    if stored.rowcount != 1 or not changed:
        return False
    _announce(session, last.campaign_id, version, open_flags, now)
    return True


def _announce(session, campaign_id, version, open_flags, now) -> None:
    record_event(session, "cashout_flags_changed", {
        "campaign_id": campaign_id, "version": version, "checked_at": now,
        "open_flags": open_flags}, now)
    log.info("open cash-out flags announced campaign_id=%s version=%s open=%s",
             campaign_id, version, len(open_flags))


def _marker(session, campaign_id: str) -> str:
    """Summarise what the rules read, so that any change to it changes the text."""
    pending = case((redemptions.c.audit_state == "pending", 1), else_=0)
    redeemed = session.execute(select(
        func.count(), func.max(redemptions.c.redeemed_at),
        func.coalesce(func.sum(pending), 0))
        .where(redemptions.c.campaign_id == campaign_id)).one()
    removals = session.execute(select(func.count()).select_from(roster_removals).where(
        roster_removals.c.campaign_id == campaign_id)).scalar()
    designated = session.execute(select(
        func.count(), func.coalesce(func.sum(merchants.c.stores), 0),
        func.max(merchants.c.designated_at))
        .where(merchants.c.campaign_id == campaign_id)).one()
    return json.dumps([*redeemed, removals, *designated], default=str)


def _open_flags(session, campaign_id: str) -> list[dict]:
    """Return the flags with a redemption that awaits the audit, in a fixed order."""
    report = flags.cashout_flags(session, campaign_id)
    rows = {row.redemption_id: row for row in session.execute(
        select(redemptions.c.redemption_id, redemptions.c.serial,
               redemptions.c.merchant_code, redemptions.c.township_code,
               redemptions.c.audit_state)
        .where(redemptions.c.campaign_id == campaign_id))}
    open_flags = []
    for flag in report["flags"]:
        ids = sorted(flag["redemption_ids"])
        if not any(rows[rid].audit_state == "pending" for rid in ids):
            continue
        open_flags.append({
            "flag_id": flag_id(flag["rule"], ids), "rule": flag["rule"],
            "label": flag["label"], "explanation": flag["explanation"],
            # Every rule looks at one merchant's redemptions at a time.
            "merchant_code": rows[ids[0]].merchant_code,
            "redemptions": [{"redemption_id": rid, "serial": rows[rid].serial,
                             "township_code": rows[rid].township_code} for rid in ids]})
    return sorted(open_flags, key=lambda item: item["flag_id"])


def flag_id(rule: str, redemption_ids: list[str]) -> str:
    """Return a flag's id: the same rule over the same redemptions is the same flag."""
    text = rule + ":" + ",".join(sorted(redemption_ids))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _fingerprint(open_flags: list[dict]) -> str:
    text = json.dumps(open_flags, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if open_flags else NO_FLAGS
