"""Finding a campaign's roster snapshots: by id, by content, the published one."""

from datetime import datetime

from sqlalchemy import select

from aixin.clock import CAMPAIGN_TZ, as_local
from aixin.errors import Conflict, NotFound
from services.roster.models import snapshots

DRAFT = "draft"
PUBLISHED = "published"


def load_snapshot(session, campaign_id: str, snapshot_id: str):
    row = session.execute(select(snapshots).where(
        snapshots.c.snapshot_id == snapshot_id,
        snapshots.c.campaign_id == campaign_id)).first()
    if row is None:
        raise NotFound("snapshot_not_found",
                       f"活动 {campaign_id} 没有花名册快照 {snapshot_id}：请核对快照编号。",
                       campaign_id=campaign_id, snapshot_id=snapshot_id)
    return row


def find_by_content(session, campaign_id: str, content_hash: str):
    return session.execute(select(snapshots).where(
        snapshots.c.campaign_id == campaign_id,
        snapshots.c.content_hash == content_hash)).first()


def published_snapshot(session, campaign_id: str):
    return session.execute(select(snapshots).where(
        snapshots.c.campaign_id == campaign_id,
        snapshots.c.status == PUBLISHED)).first()


def require_published(session, campaign_id: str):
    row = published_snapshot(session, campaign_id)
    if row is None:
        raise Conflict("roster_not_published",
                       f"活动 {campaign_id} 的花名册尚未发布：请先审核并发布花名册。",
                       campaign_id=campaign_id)
    return row


def current_snapshot(session, campaign_id: str, snapshot_id: str | None = None):
    """Return the named snapshot, else the published one, else the latest draft."""
    if snapshot_id:
        return load_snapshot(session, campaign_id, snapshot_id)
    row = published_snapshot(session, campaign_id)
    if row is not None:
        return row
    row = session.execute(select(snapshots)
                          .where(snapshots.c.campaign_id == campaign_id)
                          .order_by(snapshots.c.imported_at.desc(),
                                    snapshots.c.snapshot_id.desc())
                          .limit(1)).first()
    if row is None:
        raise NotFound("roster_not_imported",
                       f"活动 {campaign_id} 还没有导入花名册：请先上传低保和特困名册。",
                       campaign_id=campaign_id)
    return row


def snapshot_summary(row) -> dict:
    """Return the snapshot's figures and state, without its rejected rows."""
    return {
        **row.report,
        "snapshot_id": row.snapshot_id,
        "campaign_id": row.campaign_id,
        "status": row.status,
        "content_hash": row.content_hash,
        "uploads": row.files,
        "imported_at": aware(row.imported_at).isoformat(),
        "imported_by": row.imported_by,
        "published_at": (aware(row.published_at).isoformat()
                         if row.published_at else None),
        "published_by": row.published_by,
    }


def aware(moment: datetime) -> datetime:
    """Return a stored datetime in campaign local time; SQLite returns it naive."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=CAMPAIGN_TZ)
    return as_local(moment)


def campaign_snapshots(session, campaign_id: str) -> list:
    return session.execute(select(snapshots)
                           .where(snapshots.c.campaign_id == campaign_id)
                           .order_by(snapshots.c.imported_at,
                                     snapshots.c.snapshot_id)).all()
