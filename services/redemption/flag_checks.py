"""Announcing each campaign's open cash-out flags to reporting when they change.

A flag is open from the moment the rules raise it until the audit has decided every
redemption it names. The redemption service's timer checks each campaign: when the
rows that the rules read are unchanged since the last check it stops there, and
otherwise it runs the rules and, if the open flags differ from those last announced,
records a ``cashout_flags_changed`` event with the whole list and the next version.
An audit announces the flags it closes at once, in its own transaction
(``close_audited``).

The redemption hot path is not touched, and does not wait for the check: the rows are
read in a short reading session, the rules run in a native thread (``eventlet.tpool``)
so that they never hold up the eventlet hub, and the result is stored in a short
transaction whose conditional update on the version lets only one of several
instances announce a version. ``Pacing`` runs the rules once a campaign's rows have
stopped changing for one tick, or after ``MAX_WAIT_S`` under continuous load.
"""

import hashlib
import json
import logging
import time

from eventlet import tpool
from nameko.extensions import DependencyProvider
from sqlalchemy import case, func, insert, select, update
from sqlalchemy import exc as sa_exc

from aixin.outbox import record_event
from services.redemption import flags
from services.redemption.models import (campaigns, flag_checks, merchants,
                                        redemptions, roster_removals)

log = logging.getLogger(__name__)

# The fingerprint of "no open flags": a campaign that never had any announces nothing.
NO_FLAGS = hashlib.sha256(b"[]").hexdigest()
# Seconds a campaign whose rows keep changing waits at most for its check.
MAX_WAIT_S = 30


class Pacing:
    """Decides when a changed campaign is checked, in wall-clock seconds.

    A change waits one tick: if the rows are the same at the next tick the rules run,
    so a burst of redemptions costs one check after it. Under continuous changes the
    rules run every ``MAX_WAIT_S`` seconds.
    """

    def __init__(self, max_wait_s: float = MAX_WAIT_S, clock=time.monotonic):
        self.max_wait_s = max_wait_s
        self.clock = clock
        self.waiting: dict[str, tuple[str, float]] = {}  # campaign -> (marker, since)

    def ready(self, campaign_id: str, marker: str) -> bool:
        now = self.clock()
        seen = self.waiting.get(campaign_id)
        if seen is None:
            self.waiting[campaign_id] = (marker, now)
            return False
        if seen[0] == marker:
            return True
        self.waiting[campaign_id] = (marker, seen[1])
        return now - seen[1] >= self.max_wait_s

    def checked(self, campaign_id: str) -> None:
        self.waiting.pop(campaign_id, None)


class FlagCheckPacing(DependencyProvider):
    """Gives the service container its own ``Pacing``."""

    def setup(self):
        self.pacing = Pacing()

    def get_dependency(self, worker_ctx):
        return self.pacing


def check_all(database, now, pacing: Pacing | None = None) -> int:
    """Check every campaign; return how many ``cashout_flags_changed`` were recorded.

    Without ``pacing`` every changed campaign is checked at once.
    """
    with database.reading() as session:
        campaign_ids = session.execute(select(campaigns.c.campaign_id)).scalars().all()
    return sum(check_campaign(database, campaign_id, now, pacing)
               for campaign_id in campaign_ids)


def check_campaign(database, campaign_id: str, now,
                   pacing: Pacing | None = None) -> bool:
    """Announce the campaign's open flags if they changed; return True if announced."""
    with database.reading() as session:
        marker = _marker(session, campaign_id)
        last = session.execute(select(flag_checks).where(
            flag_checks.c.campaign_id == campaign_id)).first()
        if last is not None and last.marker == marker:
            return False
        if pacing is not None and not pacing.ready(campaign_id, marker):
            return False
        inputs = flags.load_inputs(session, campaign_id)
        states = _redemption_states(session, campaign_id)
    if pacing is not None:
        pacing.checked(campaign_id)
    # The rules are pure Python over rows already read: a native thread runs them.
    open_flags = _open_flags(tpool.execute(flags.evaluate, inputs), states)
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
        fingerprint=fingerprint, open_flags=open_flags, checked_at=now))
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
                open_flags=open_flags, checked_at=now))
    if stored.rowcount != 1 or not changed:
        return False
    _announce(session, last.campaign_id, version, open_flags, now)
    return True


def close_audited(session, campaign_id: str, now) -> bool:
    """Announce, in the audit's transaction, the open flags less those it decided.

    An audit changes no flag, it only closes them, so the last announced list minus
    the flags with no redemption still pending is the new list; the rules need not
    run. The timer's next check finds the same list and announces nothing.
    """
    last = session.execute(select(flag_checks).where(
        flag_checks.c.campaign_id == campaign_id)).first()
    if last is None or not last.open_flags:
        return False
    named = {item["redemption_id"] for flag in last.open_flags
             for item in flag["redemptions"]}
    pending = set(session.execute(select(redemptions.c.redemption_id).where(
        redemptions.c.redemption_id.in_(sorted(named)),
        redemptions.c.audit_state == "pending")).scalars())
    still_open = [flag for flag in last.open_flags
                  if any(item["redemption_id"] in pending
                         for item in flag["redemptions"])]
    if len(still_open) == len(last.open_flags):
        return False
    stored = session.execute(update(flag_checks).where(
        flag_checks.c.campaign_id == campaign_id,
        flag_checks.c.version == last.version)
        .values(version=last.version + 1, fingerprint=_fingerprint(still_open),
                open_flags=still_open, checked_at=now))
    if stored.rowcount != 1:
        return False  # a check in progress announces it; the next one corrects it
    _announce(session, campaign_id, last.version + 1, still_open, now)
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


def _redemption_states(session, campaign_id: str) -> dict:
    return {row.redemption_id: row for row in session.execute(
        select(redemptions.c.redemption_id, redemptions.c.serial,
               redemptions.c.merchant_code, redemptions.c.township_code,
               redemptions.c.audit_state)
        .where(redemptions.c.campaign_id == campaign_id))}


def _open_flags(report: dict, rows: dict) -> list[dict]:
    """Return the flags with a redemption that awaits the audit, in a fixed order."""
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
