"""The current roster: a snapshot's persons with its amendments applied in order.

Snapshot rows are never updated. A removal hides a person, an addition shows one
(again), and a change overrides the village or institution. Amendments are few next
to persons, so they are loaded whole and applied as each person row is read.
"""

from sqlalchemy import select, tuple_

from aixin.errors import NotFound
from services.roster.models import amendments, persons

REMOVE = "remove"
ADD = "add"
CHANGE = "change"
CHANGEABLE_FIELDS = ("village", "institution")


def amendment_overlay(session, snapshot_id: str) -> dict:
    """Map each amended beneficiary id to its state: ``removed`` and new fields."""
    rows = session.execute(select(amendments)
                           .where(amendments.c.snapshot_id == snapshot_id)
                           .order_by(amendments.c.sequence)).all()
    overlay: dict[str, dict] = {}
    for row in rows:
        state = overlay.setdefault(row.beneficiary_id, {})
        if row.kind == REMOVE:
            state["removed"] = row.reason
        else:
            state.pop("removed", None)
            state.update({key: value for key, value in (row.changes or {}).items()
                          if key in CHANGEABLE_FIELDS})
    return overlay


def beneficiary_record(row, state: dict | None = None) -> dict:
    """The public data of a person, as events carry it: no full ID number."""
    state = state or {}
    return {
        "beneficiary_id": row.beneficiary_id,
        "name": row.name,
        "masked_id": row.masked_id,
        "township_code": row.township_code,
        "township_name": row.township_name,
        "village": state.get("village", row.village),
        "categories": row.categories.split(","),
        "support_mode": row.support_mode,
        "institution": state.get("institution", row.institution),
    }


def is_listed(row, overlay: dict, original: bool = False) -> bool:
    """Tell whether a person row is on the roster, now or as first imported."""
    if original:
        return row.added_by is None
    return "removed" not in overlay.get(row.beneficiary_id, {})


def township_records(session, snapshot_id: str, township_code: str,
                     village: str | None = None, original: bool = False) -> list:
    """Return the listed persons of one township, by village, name and id."""
    overlay = {} if original else amendment_overlay(session, snapshot_id)
    rows = session.execute(select(persons).where(
        persons.c.snapshot_id == snapshot_id,
        persons.c.township_code == township_code)).all()
    records = [beneficiary_record(row, overlay.get(row.beneficiary_id))
               for row in rows if is_listed(row, overlay, original)]
    if village is not None:
        records = [record for record in records if record["village"] == village]
    records.sort(key=lambda record: (record["village"] or "", record["name"],
                                     record["beneficiary_id"]))
    return records


# The columns of a beneficiary record, in its order: never the ID number's hash or
# ciphertext.
_RECORD_FIELDS = ("beneficiary_id", "name", "masked_id", "township_code",
                  "township_name", "village", "categories", "support_mode",
                  "institution")
_RECORD_COLUMNS = [persons.c[name] for name in _RECORD_FIELDS]


def iter_listed_records(session, snapshot_id: str, page_size: int):
    """Yield the beneficiary record of every listed person in township order.

    One page per query: keyset pagination keeps memory bounded by ``page_size``
    however large the snapshot, and lets the caller write to the same session
    between pages. Records are as :func:`beneficiary_record` makes them, built from
    plain tuples because a publication has a million of them.
    """
    overlay = amendment_overlay(session, snapshot_id)
    last = None
    while True:
        query = select(*_RECORD_COLUMNS).where(persons.c.snapshot_id == snapshot_id)
        if last is not None:
            query = query.where(
                tuple_(persons.c.township_code, persons.c.beneficiary_id) > last)
        query = query.order_by(persons.c.township_code,
                               persons.c.beneficiary_id).limit(page_size)
        rows = session.execute(query).all()
        if not rows:
            return
        for values in rows:
            record = dict(zip(_RECORD_FIELDS, values, strict=True))
            record["categories"] = record["categories"].split(",")
            state = overlay.get(record["beneficiary_id"])
            if state:
                if "removed" in state:
                    continue
                record["village"] = state.get("village", record["village"])
                record["institution"] = state.get("institution",
                                                  record["institution"])
            yield record
        last = (rows[-1].township_code, rows[-1].beneficiary_id)


def load_person(session, snapshot_id: str, beneficiary_id: str):
    row = session.execute(select(persons).where(
        persons.c.snapshot_id == snapshot_id,
        persons.c.beneficiary_id == beneficiary_id)).first()
    if row is None:
        raise NotFound("beneficiary_not_found",
                       f"花名册中没有发放对象 {beneficiary_id}：请核对编号。",
                       beneficiary_id=beneficiary_id)
    return row


def person_state(session, snapshot_id: str, beneficiary_id: str) -> dict:
    return amendment_overlay(session, snapshot_id).get(beneficiary_id, {})
