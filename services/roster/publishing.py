"""Publishing a reviewed snapshot: the roster every other bureau works from.

The status change and every event are written in one transaction, so the other
services receive either the whole roster or nothing. Beneficiaries go out in
``roster_published`` events of ``batch_size`` each, then one
``roster_publication_completed`` with the count per township.
"""

import logging
import math

from sqlalchemy import func, select, update

from aixin.commands import record_audit
from aixin.errors import Conflict, DomainError
from aixin.outbox import record_event
from services.roster import current
from services.roster import snapshots as snapshot_store
from services.roster.models import persons, snapshots

log = logging.getLogger(__name__)


def publish(session, campaign_id: str, snapshot_id: str, batch_size: int,
            actor: dict, now) -> dict:
    snapshot = snapshot_store.load_snapshot(session, campaign_id, snapshot_id)
    published = snapshot_store.published_snapshot(session, campaign_id)
    if published is not None:
        raise Conflict("roster_already_published",
                       f"活动 {campaign_id} 已发布花名册快照 {published.snapshot_id}，"
                       "每个活动只能发布一次：之后请以更正的方式修改名册。",
                       campaign_id=campaign_id, snapshot_id=published.snapshot_id)
    listed = _listed_count(session, snapshot_id)
    if listed == 0:
        _reject_empty(snapshot)
    # Only a draft can be in this state: a published one was caught above.
    changed = session.execute(update(snapshots).where(
        snapshots.c.snapshot_id == snapshot.snapshot_id,
        snapshots.c.status == snapshot_store.DRAFT,
    ).values(status=snapshot_store.PUBLISHED, published_at=now,
             published_by=actor["name"])).rowcount
    if changed != 1:
        raise Conflict("snapshot_changed",
                       "花名册快照正在被其他操作修改：请刷新后重试。",
                       snapshot_id=snapshot_id)

    batch_count = math.ceil(listed / batch_size)
    townships: dict[str, dict] = {}
    batch: list[dict] = []
    batch_no = 0
    for record in current.iter_listed_records(session, snapshot_id, batch_size):
        counts = townships.get(record["township_code"])
        if counts is None:
            counts = townships[record["township_code"]] = {
                "code": record["township_code"], "name": record["township_name"],
                "eligible": 0}
        counts["eligible"] += 1
        batch.append(record)
        if len(batch) == batch_size:
            batch_no += 1
            _record_batch(session, campaign_id, snapshot_id, batch_no, batch_count,
                          batch, now)
            batch = []
    if batch:
        batch_no += 1
        _record_batch(session, campaign_id, snapshot_id, batch_no, batch_count, batch,
                      now)
    if batch_no != batch_count:
        raise RuntimeError(f"published {batch_no} batches, expected {batch_count} "
                           f"snapshot_id={snapshot_id}")

    completed = {
        "campaign_id": campaign_id, "snapshot_id": snapshot_id,
        "batch_count": batch_count, "beneficiary_count": listed,
        "townships": [townships[code] for code in sorted(townships)],
    }
    record_event(session, "roster_publication_completed", completed, now)
    record_audit(session, now, actor["name"], "publish_roster", snapshot_id,
                 campaign_id=campaign_id, beneficiaries=listed,
                 batch_count=batch_count)
    log.info("roster published campaign_id=%s snapshot_id=%s beneficiaries=%d "
             "batches=%d", campaign_id, snapshot_id, listed, batch_count)
    return completed


def _reject_empty(snapshot) -> None:
    """Reject a snapshot without beneficiaries. Publishing it would give nobody a
    voucher and, since a campaign publishes only once, block the corrected roster."""
    report = snapshot.report or {}
    raise DomainError(
        "roster_snapshot_empty",
        f"花名册快照 {snapshot.snapshot_id} 中没有可发放消费券的保障对象"
        f"（读取 {report.get('rows_read', 0)} 行，拒收 {report.get('rejected_rows', 0)}"
        " 行），不能发布：请下载导入报告查看拒收原因，修正名册文件后重新导入，"
        "再发布新导入的快照。",
        snapshot_id=snapshot.snapshot_id, rows_read=report.get("rows_read", 0),
        rejected_rows=report.get("rejected_rows", 0))


def _listed_count(session, snapshot_id: str) -> int:
    total = session.execute(select(func.count()).select_from(persons).where(
        persons.c.snapshot_id == snapshot_id)).scalar()
    overlay = current.amendment_overlay(session, snapshot_id)
    removed = sum(1 for state in overlay.values() if "removed" in state)
    return total - removed


def _record_batch(session, campaign_id, snapshot_id, batch_no, batch_count, batch,
                  now) -> None:
    record_event(session, "roster_published", {
        "campaign_id": campaign_id, "snapshot_id": snapshot_id,
        "batch_no": batch_no, "batch_count": batch_count, "beneficiaries": batch,
    }, now)
