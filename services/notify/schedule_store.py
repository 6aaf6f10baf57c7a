"""Storing campaigns, their townships and their reminder schedules."""

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from aixin.clock import as_local
from aixin.outbox import jsonable
from services.notify.inbox_reads import local_iso
from services.notify.domain.schedule import derive_schedule
from services.notify.models import campaigns, occurrences, townships


def _insert_missing(session, table, values: dict) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(table).values(**values).on_conflict_do_nothing())


def store_campaign(session, data: dict, occurred_at) -> int:
    """Store a campaign and its reminder schedule; return the number of occurrences."""
    created_on = as_local(occurred_at).date()
    _insert_missing(session, campaigns, {"campaign_id": data["campaign_id"],
                                         "config": jsonable(data),
                                         "created_on": created_on})
    schedule = derive_schedule(data, created_on)
    for occurrence in schedule:
        _insert_missing(session, occurrences, {
            "campaign_id": data["campaign_id"], "kind": occurrence.kind,
            "occurrence_date": occurrence.occurrence_date,
            "due_at": occurrence.due_at, "audience": occurrence.audience})
    return len(schedule)


def store_townships(session, data: dict) -> None:
    for township in data["townships"]:
        key = {"campaign_id": data["campaign_id"], "township_code": township["code"]}
        _insert_missing(session, townships, {**key, "name": township["name"]})
        session.execute(update(townships).where(
            townships.c.campaign_id == key["campaign_id"],
            townships.c.township_code == key["township_code"])
            .values(name=township["name"]))


def list_schedule(session, campaign_id: str) -> list:
    rows = session.execute(select(occurrences).where(
        occurrences.c.campaign_id == campaign_id)
        .order_by(occurrences.c.due_at, occurrences.c.kind)).all()
    return [{"kind": row.kind, "occurrence_date": row.occurrence_date.isoformat(),
             "due_at": local_iso(row.due_at),
             "audience": row.audience,
             "done": row.done_at is not None} for row in rows]
