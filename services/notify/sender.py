"""Send every reminder that is due: claim each recipient once, then deliver.

1. For each due occurrence not yet done, fetch its figures (no transaction open),
   compose one message per recipient and claim each recipient in its own short
   transaction, together with one pending delivery per channel. The primary key of
   ``claims`` (campaign, kind, occurrence date, recipient) makes a second claim fail,
   so concurrent or repeated runs send nothing twice.
2. Deliver every pending or failed delivery whose next attempt is due. A delivery is
   leased by a conditional update before the channel runs, logged per attempt, and
   announced with ``reminder_sent`` once sent.

A recurring reminder (``schedule.RECURRING``) that a newer occurrence of its kind
supersedes is not sent: after a clock jump or an outage only the newest due
occurrence goes out, with the current figures, and each older one is recorded per
recipient and channel as ``skipped`` with the reason. Its recipients are those of
the newest occurrence, and its claims keep it from ever being sent later. A delivery
still waiting for a retry when a newer one of its kind reaches the same recipient and
channel is skipped the same way.

Backoff and leases are measured on the campaign clock, so in a simulation a failed
delivery is retried once the clock has moved past its next attempt.
"""

import logging
import uuid
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import aliased

from aixin import events
from aixin.outbox import record_event
from services.notify import figures
from services.notify.channels import DeliveryFailed
from services.notify.domain.messages import compose
from services.notify.domain.schedule import RECURRING, newest_due, superseded_reason
from services.notify.models import (campaigns, claims, deliveries, delivery_attempts,
                                    occurrences, townships)

log = logging.getLogger(__name__)

# Deliveries not yet settled: sent and skipped ones never go out again.
UNSETTLED = ("pending", "sending", "failed")
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=6)


def _due_occurrences(database, now) -> list:
    with database.reading() as session:
        return session.execute(
            select(occurrences).where(occurrences.c.done_at.is_(None),
                                      occurrences.c.due_at <= now)
            .order_by(occurrences.c.due_at, occurrences.c.kind)).all()


def _campaign_context(database, campaign_id: str) -> tuple[dict, dict]:
    with database.reading() as session:
        config = session.execute(select(campaigns.c.config).where(
            campaigns.c.campaign_id == campaign_id)).scalar_one()
        names = dict(session.execute(
            select(townships.c.township_code, townships.c.name)
            .where(townships.c.campaign_id == campaign_id)).all())
    schema = events.schema_of("campaign_created")
    return schema.load(config), names


def _claim(database, occurrence, message, channel_names, now,
           skipped: str | None = None) -> bool:
    """Claim one recipient and queue its deliveries; return False if already claimed.

    With ``skipped`` (the reason) the deliveries are recorded as skipped instead.
    """
    key = {"campaign_id": occurrence.campaign_id, "kind": occurrence.kind,
           "occurrence_date": occurrence.occurrence_date}
    try:
        with database.transaction() as session:
            session.execute(insert(claims).values(
                **key, recipient=message.recipient, claimed_at=now))
            for channel in channel_names:
                session.execute(insert(deliveries).values(
                    **key, delivery_id=str(uuid.uuid4()), recipient=message.recipient,
                    township_code=message.township_code, channel=channel,
                    subject=message.subject, body="" if skipped else message.body,
                    status="skipped" if skipped else "pending", reason=skipped,
                    attempts=0, next_attempt_at=now, created_at=now))
    except sa_exc.IntegrityError:
        log.info("reminder already claimed kind=%s date=%s recipient=%s",
                 occurrence.kind, occurrence.occurrence_date, message.recipient)
        return False
    return True


def _mark_done(database, occurrence, now) -> None:
    with database.transaction() as session:
        session.execute(update(occurrences).where(
            occurrences.c.campaign_id == occurrence.campaign_id,
            occurrences.c.kind == occurrence.kind,
            occurrences.c.occurrence_date == occurrence.occurrence_date)
            .values(done_at=now))


def claim_due(database, client, recipients, now) -> int:
    """Claim the recipients of every due occurrence; return how many were new.

    An occurrence superseded by a newer due one of its kind is handled with that
    newer one: its recipients are claimed as skipped, after the newer one's figures
    arrived, so a failure to fetch them leaves both for the next run.
    """
    claimed = 0
    due = _due_occurrences(database, now)
    superseded = newest_due(due)
    older = defaultdict(list)  # (campaign, kind, newest date) -> superseded ones
    for occurrence in due:
        key = (occurrence.campaign_id, occurrence.kind, occurrence.occurrence_date)
        if key in superseded:
            older[(*key[:2], superseded[key])].append(occurrence)
    for occurrence in due:
        key = (occurrence.campaign_id, occurrence.kind, occurrence.occurrence_date)
        if key in superseded:
            continue
        config, names = _campaign_context(database, occurrence.campaign_id)
        try:
            current = figures.fetch(client, occurrence.kind, occurrence.campaign_id,
                                    occurrence.occurrence_date, names)
        except figures.FiguresUnavailable as error:
            # Later occurrences would wait for the same service, so stop this run.
            log.warning("reminders postponed, figures unavailable campaign_id=%s "
                        "kind=%s date=%s error=%s", occurrence.campaign_id, occurrence.kind,
                        occurrence.occurrence_date, error)
            break
        messages = compose(occurrence.kind, config, occurrence.occurrence_date, current)
        for stale in older.get(key, ()):
            _skip_occurrence(database, stale, occurrence, messages, recipients, now)
        for message in messages:
            channel_names = recipients.channels_of(message.recipient)
            claimed += _claim(database, occurrence, message, channel_names, now)
        _mark_done(database, occurrence, now)
        log.info("reminder occurrence done campaign_id=%s kind=%s date=%s messages=%s",
                 occurrence.campaign_id, occurrence.kind, occurrence.occurrence_date,
                 len(messages))
    return claimed


def _skip_occurrence(database, older, newer, messages, recipients, now) -> None:
    """Record ``older`` as skipped for each recipient of ``newer`` and mark it done."""
    reason = superseded_reason(older.kind, newer.occurrence_date)
    for message in messages:
        _claim(database, older, message, recipients.channels_of(message.recipient), now,
               skipped=reason)
    _mark_done(database, older, now)
    log.info("reminder occurrence skipped campaign_id=%s kind=%s date=%s "
             "superseded_by=%s recipients=%s", older.campaign_id, older.kind,
             older.occurrence_date, newer.occurrence_date, len(messages))


def skip_superseded_deliveries(database, now) -> int:
    """Skip each unsent recurring delivery that a newer one of its kind replaces.

    The newer delivery has the same campaign, kind, recipient and channel. A
    delivery leased by a run in progress (``sending`` before its lease ends) is
    left alone.
    """
    newer = aliased(deliveries)
    same = and_(newer.c.campaign_id == deliveries.c.campaign_id,
                newer.c.kind == deliveries.c.kind,
                newer.c.recipient == deliveries.c.recipient,
                newer.c.channel == deliveries.c.channel,
                newer.c.occurrence_date > deliveries.c.occurrence_date)
    with database.reading() as session:
        rows = session.execute(
            select(deliveries.c.delivery_id, deliveries.c.kind,
                   func.max(newer.c.occurrence_date).label("newest"))
            .join(newer, same)
            .where(deliveries.c.status.in_(UNSETTLED),
                   deliveries.c.kind.in_(sorted(RECURRING)))
            .group_by(deliveries.c.delivery_id, deliveries.c.kind)).all()
    skipped = 0
    for row in rows:
        with database.transaction() as session:
            result = session.execute(update(deliveries).where(
                deliveries.c.delivery_id == row.delivery_id,
                deliveries.c.status.in_(UNSETTLED),
                (deliveries.c.status != "sending")
                | (deliveries.c.next_attempt_at <= now))
                .values(status="skipped",
                        reason=superseded_reason(row.kind, row.newest)))
        if result.rowcount == 1:
            skipped += 1
            log.info("delivery skipped delivery_id=%s kind=%s superseded_by=%s",
                     row.delivery_id, row.kind, row.newest)
    return skipped


def _lease(database, delivery_id: str, now) -> bool:
    with database.transaction() as session:
        result = session.execute(update(deliveries).where(
            deliveries.c.delivery_id == delivery_id,
            deliveries.c.status.in_(UNSETTLED),
            deliveries.c.next_attempt_at <= now)
            .values(status="sending", attempts=deliveries.c.attempts + 1,
                    next_attempt_at=now + LEASE))
    return result.rowcount == 1


def _record_success(database, delivery, now) -> None:
    with database.transaction() as session:
        result = session.execute(update(deliveries).where(
            deliveries.c.delivery_id == delivery.delivery_id,
            deliveries.c.status != "sent")
            .values(status="sent", sent_at=now, last_error=None))
        session.execute(insert(delivery_attempts).values(
            delivery_id=delivery.delivery_id, attempted_at=now, outcome="sent"))
        if result.rowcount == 1:
            record_event(session, "reminder_sent", {
                "campaign_id": delivery.campaign_id,
                "reminder_id": delivery.delivery_id,
                "kind": delivery.kind, "recipient": delivery.recipient,
                "channel": delivery.channel, "sent_at": now}, now)


def _record_failure(database, delivery, error, now) -> None:
    attempts = delivery.attempts + 1
    backoff = min(FIRST_BACKOFF * 2 ** (attempts - 1), MAX_BACKOFF)
    with database.transaction() as session:
        session.execute(update(deliveries).where(
            deliveries.c.delivery_id == delivery.delivery_id)
            .values(status="failed", last_error=str(error)[:2000],
                    next_attempt_at=now + backoff))
        session.execute(insert(delivery_attempts).values(
            delivery_id=delivery.delivery_id, attempted_at=now, outcome="failed",
            error=str(error)[:2000]))
    log.warning("delivery failed delivery_id=%s recipient=%s channel=%s attempt=%s "
                "retry_after=%s error=%s", delivery.delivery_id, delivery.recipient,
                delivery.channel, attempts, backoff, error)


def deliver_pending(database, channels, recipients, clock) -> dict:
    """Deliver every due pending or failed delivery; return the counts by outcome."""
    now = clock.now()
    skip_superseded_deliveries(database, now)
    with database.reading() as session:
        due = session.execute(select(deliveries).where(
            deliveries.c.status.in_(UNSETTLED), deliveries.c.next_attempt_at <= now,
            deliveries.c.attempts < MAX_ATTEMPTS)
            .order_by(deliveries.c.created_at, deliveries.c.delivery_id)).all()
    outcome = {"sent": 0, "failed": 0}
    for delivery in due:
        if not _lease(database, delivery.delivery_id, now):
            continue
        channel = channels[delivery.channel]
        try:
            channel.deliver(delivery, recipients.address_of(delivery.recipient), now)
        except DeliveryFailed as error:
            _record_failure(database, delivery, error, now)
            outcome["failed"] += 1
            if delivery.attempts + 1 >= MAX_ATTEMPTS:
                log.error("delivery abandoned after %s attempts delivery_id=%s",
                          MAX_ATTEMPTS, delivery.delivery_id)
            continue
        _record_success(database, delivery, now)
        outcome["sent"] += 1
    return outcome


def send_due(database, clock, client, channels, recipients) -> dict:
    """Claim and deliver everything due on the campaign clock; return the counts."""
    claimed = claim_due(database, client, recipients, clock.now())
    outcome = deliver_pending(database, channels, recipients, clock)
    return {"claimed": claimed, **outcome}
