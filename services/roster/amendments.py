"""Corrections to a roster: removals, additions and changes, each announced.

After publication every correction is an amendment with its reason, operator and
time, announced as ``roster_amended``; the snapshot rows stay as imported. Before
publication only death registrations remove persons, recorded the same way but not
announced, because nobody has received the draft yet.
"""

import logging
import uuid

from sqlalchemy import func, insert, select

from aixin.commands import record_audit
from aixin.errors import Conflict, InvalidInput
from aixin.outbox import record_event
from services.roster import current
from services.roster import snapshots as snapshot_store
from services.roster.domain import readers
from services.roster.domain.divisions import DivisionIndex
from services.roster.domain.importer import RosterImport
from services.roster.imports import person_row, snapshot_month_start
from services.roster.keys import RosterKeys
from services.roster.models import amendments, persons

log = logging.getLogger(__name__)

MANUAL = "manual"
DEATH_REGISTRATION = "death_registration"
_ENGLISH_CATEGORIES = {"urban_dibao": "城市低保", "rural_dibao": "农村低保",
                       "tekun": "特困人员"}
_ENGLISH_MODES = {"dispersed": "分散供养", "institutional": "集中供养"}
_FIELDS = (readers.ID_NUMBER, readers.NAME, readers.TOWNSHIP, readers.VILLAGE,
           readers.CATEGORY, readers.SUPPORT_MODE, readers.INSTITUTION)
_HEADERS = ("身份证号码", "姓名", "乡镇（街道）", "村（社区）", "保障类别", "供养方式",
            "供养机构")


def amend(session, campaign: dict, request: dict, keys: RosterKeys, actor: dict,
          now) -> dict:
    """Apply one amendment to the published roster and announce it."""
    snapshot = snapshot_store.require_published(session, campaign["campaign_id"])
    kind = request["kind"]
    amendment_id = uuid.uuid4().hex
    if kind == current.ADD:
        row, changes = _add_person(session, campaign, snapshot, request["person"], keys,
                                   amendment_id)
    else:
        row = current.load_person(session, snapshot.snapshot_id,
                                  request["beneficiary_id"])
        state = current.person_state(session, snapshot.snapshot_id, row.beneficiary_id)
        if "removed" in state:
            raise Conflict("beneficiary_removed",
                           f"发放对象 {row.beneficiary_id} 已从名册中删除"
                           f"（{state['removed']}）：不能再删除或变更。",
                           beneficiary_id=row.beneficiary_id)
        changes = _changes(row, request) if kind == current.CHANGE else None
    return record_amendment(session, campaign["campaign_id"], snapshot, row, kind,
                            request["reason"], changes, request.get("note"), MANUAL,
                            actor, now, amendment_id)


def record_amendment(session, campaign_id: str, snapshot, row, kind: str,
                     reason: str, changes: dict | None, note: str | None,
                     source: str, actor: dict, now,
                     amendment_id: str | None = None) -> dict:
    """Store an amendment; announce it when the snapshot is published."""
    amendment_id = amendment_id or uuid.uuid4().hex
    before_publication = snapshot.status != snapshot_store.PUBLISHED
    sequence = (session.execute(select(func.max(amendments.c.sequence)).where(
        amendments.c.snapshot_id == snapshot.snapshot_id)).scalar() or 0) + 1
    session.execute(insert(amendments).values(
        amendment_id=amendment_id, snapshot_id=snapshot.snapshot_id,
        sequence=sequence, kind=kind, reason=reason, note=note,
        beneficiary_id=row.beneficiary_id, changes=changes,
        before_publication=before_publication, source=source,
        operator=actor["name"], occurred_at=now))
    state = current.person_state(session, snapshot.snapshot_id, row.beneficiary_id)
    beneficiary = current.beneficiary_record(row, state)
    if not before_publication:
        record_event(session, "roster_amended", {
            "campaign_id": campaign_id, "amendment_id": amendment_id, "kind": kind,
            "beneficiary": beneficiary, "reason": reason, "operator": actor["name"],
        }, now)
    record_audit(session, now, actor["name"], f"amend_roster_{kind}",
                 row.beneficiary_id, reason=note or reason, amendment_id=amendment_id,
                 snapshot_id=snapshot.snapshot_id, source=source)
    log.info("roster amended campaign_id=%s amendment_id=%s kind=%s reason=%s "
             "beneficiary_id=%s announced=%s", campaign_id, amendment_id, kind, reason,
             row.beneficiary_id, not before_publication)
    return {"amendment_id": amendment_id, "snapshot_id": snapshot.snapshot_id,
            "sequence": sequence, "kind": kind, "reason": reason, "note": note,
            "source": source, "operator": actor["name"],
            "occurred_at": now.isoformat(), "announced": not before_publication,
            "beneficiary": beneficiary}


def _changes(row, request: dict) -> dict:
    changes = {}
    if request.get("village"):
        changes["village"] = request["village"].strip()
    if request.get("institution"):
        if row.support_mode != "institutional":
            raise InvalidInput("not_institutional",
                               f"发放对象 {row.beneficiary_id} 不是集中供养人员，"
                               "没有供养机构可变更。", beneficiary_id=row.beneficiary_id)
        changes["institution"] = request["institution"].strip()
    return changes


def _add_person(session, campaign: dict, snapshot, person: dict, keys: RosterKeys,
                amendment_id: str):
    """Check the person like an imported row; insert or reinstate them."""
    beneficiary = check_new_person(campaign, person)
    amendment_changes = {"village": beneficiary.village,
                         "institution": beneficiary.institution}
    id_hash = keys.id_hash(beneficiary.id_number)
    existing = session.execute(select(persons).where(
        persons.c.snapshot_id == snapshot.snapshot_id,
        persons.c.id_hash == id_hash)).first()
    if existing is not None:
        state = current.person_state(session, snapshot.snapshot_id,
                                     existing.beneficiary_id)
        if "removed" not in state:
            raise Conflict("beneficiary_already_listed",
                           f"此人已在名册中（发放对象 {existing.beneficiary_id}，"
                           f"身份证号 {existing.masked_id}）：无需增补。",
                           beneficiary_id=existing.beneficiary_id)
        # A person removed earlier is listed again under the same beneficiary id.
        return existing, amendment_changes
    values = person_row(campaign["campaign_id"], snapshot.snapshot_id, beneficiary,
                        keys, added_by=amendment_id)
    session.execute(insert(persons).values(**values))
    row = current.load_person(session, snapshot.snapshot_id, values["beneficiary_id"])
    return row, amendment_changes


def check_new_person(campaign: dict, person: dict):
    """Return the domain Beneficiary of one person, or raise InvalidInput.

    The person goes through the import's own row checks, so an addition is held to
    the same rules as a row of an uploaded file.
    """
    values = dict(person)
    values["category"] = _ENGLISH_CATEGORIES.get(values["category"],
                                                 values["category"])
    if values.get("support_mode"):
        values["support_mode"] = _ENGLISH_MODES.get(values["support_mode"],
                                                    values["support_mode"])
    layout = readers.Layout(
        file="增补对象", sheet=None, header_row=1,
        columns={field: index for index, field in enumerate(_FIELDS)},
        headers=dict(zip(_FIELDS, _HEADERS)))
    row = readers.RosterRow(layout=layout, row=2,
                            values={field: values.get(field) for field in _FIELDS})
    check = RosterImport(campaign["district_code"], DivisionIndex.load(),
                         snapshot_month_start(campaign))
    check.add_rows([row])
    result = check.finish()
    if result.rejections:
        rejection = result.rejections[0]
        raise InvalidInput(rejection.reason, rejection.message,
                           column=rejection.column, value=rejection.value)
    return result.beneficiaries[0]
