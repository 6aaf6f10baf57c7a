"""Applying death registrations to a campaign's roster.

A person who died before the snapshot month ended should never have been listed:
they are removed (reason ``deceased``), from the draft before publication and by an
announced amendment after it. A later death is flagged for civil affairs to review,
because the person was eligible in the snapshot month.
"""

import calendar
import logging

from sqlalchemy import insert, select

from services.roster import current
from services.roster import snapshots as snapshot_store
from services.roster.amendments import DEATH_REGISTRATION, record_amendment
from services.roster.imports import snapshot_month_start
from services.roster.keys import RosterKeys
from services.roster.models import death_reviews, persons

log = logging.getLogger(__name__)


def apply_deaths(session, campaign: dict, snapshot_id: str | None, records: list,
                 keys: RosterKeys, actor: dict, now) -> dict:
    campaign_id = campaign["campaign_id"]
    snapshot = snapshot_store.current_snapshot(session, campaign_id, snapshot_id)
    start = snapshot_month_start(campaign)
    month_end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
    outcome = {"snapshot_id": snapshot.snapshot_id,
               "published": snapshot.status == snapshot_store.PUBLISHED,
               "rows_read": len(records), "removed": [], "flagged": [],
               "not_on_roster": 0, "already_removed": 0, "rejected": []}
    for record in records:
        if record.rejection is not None:
            outcome["rejected"].append({"file": record.file, "row": record.row,
                                        **record.rejection})
            continue
        row = session.execute(select(persons).where(
            persons.c.snapshot_id == snapshot.snapshot_id,
            persons.c.id_hash == keys.id_hash(record.id_number))).first()
        if row is None:
            outcome["not_on_roster"] += 1
            continue
        state = current.person_state(session, snapshot.snapshot_id, row.beneficiary_id)
        if "removed" in state:
            outcome["already_removed"] += 1
            continue
        entry = {"beneficiary_id": row.beneficiary_id, "masked_id": row.masked_id,
                 "township_code": row.township_code,
                 "died_on": record.died_on.isoformat(),
                 "file": record.file, "row": record.row}
        if record.died_on <= month_end:
            amendment = record_amendment(
                session, campaign_id, snapshot, row, current.REMOVE, "deceased", None,
                f"死亡登记：{record.died_on.isoformat()}（{record.file} 第{record.row}行）",
                DEATH_REGISTRATION, actor, now)
            outcome["removed"].append({**entry,
                                       "amendment_id": amendment["amendment_id"]})
        elif _flag(session, snapshot.snapshot_id, row.beneficiary_id, record, actor,
                   now):
            outcome["flagged"].append(entry)
    log.info("death registrations applied campaign_id=%s snapshot_id=%s rows=%d "
             "removed=%d flagged=%d not_on_roster=%d rejected=%d", campaign_id,
             snapshot.snapshot_id, len(records), len(outcome["removed"]),
             len(outcome["flagged"]), outcome["not_on_roster"],
             len(outcome["rejected"]))
    return outcome


def _flag(session, snapshot_id, beneficiary_id, record, actor, now) -> bool:
    """Flag a later death for review once; return False when already flagged."""
    if session.execute(select(death_reviews.c.id).where(
            death_reviews.c.snapshot_id == snapshot_id,
            death_reviews.c.beneficiary_id == beneficiary_id)).first():
        return False
    session.execute(insert(death_reviews).values(
        snapshot_id=snapshot_id, beneficiary_id=beneficiary_id,
        died_on=record.died_on, file=record.file, row_number=record.row,
        registered_by=actor["name"], registered_at=now))
    return True


def list_reviews(session, snapshot_id: str) -> list:
    rows = session.execute(select(death_reviews, persons.c.masked_id,
                                  persons.c.name, persons.c.township_code)
                           .join(persons, (persons.c.snapshot_id
                                           == death_reviews.c.snapshot_id)
                                 & (persons.c.beneficiary_id
                                    == death_reviews.c.beneficiary_id))
                           .where(death_reviews.c.snapshot_id == snapshot_id)
                           .order_by(death_reviews.c.id)).all()
    return [{"beneficiary_id": row.beneficiary_id, "name": row.name,
             "masked_id": row.masked_id, "township_code": row.township_code,
             "died_on": row.died_on.isoformat(), "file": row.file,
             "row": row.row_number} for row in rows]
