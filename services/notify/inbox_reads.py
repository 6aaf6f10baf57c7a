"""Reading the inbox and the delivery log, limited to what the caller may see."""

from sqlalchemy import select

from aixin.clock import CAMPAIGN_TZ
from aixin.errors import Forbidden, InvalidInput
from services.notify.models import deliveries, inbox

BUREAU_ROLES = {"commerce", "finance", "civil_affairs", "leading_group"}
MAX_PAGE = 500


def local_iso(moment) -> str | None:
    """Format a stored time; SQLite returns local times without their zone."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CAMPAIGN_TZ)
    return moment.astimezone(CAMPAIGN_TZ).isoformat()


def _page(limit, offset) -> tuple[int, int]:
    try:
        limit, offset = int(limit), int(offset)
    except (TypeError, ValueError):
        raise InvalidInput("invalid_page", "limit 和 offset 必须是整数。") from None
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput("invalid_page",
                           f"limit 须在 1 到 {MAX_PAGE} 之间，offset 不能为负数。")
    return limit, offset


def _visible_to(actor: dict):
    """Return the filter of inbox rows the caller may read, or None for all."""
    role, scope = actor.get("role"), actor.get("scope")
    if role in ("admin", "system"):
        return None
    if role == "township":
        # A township reads its own inbox and those of its village committees.
        return inbox.c.township_code == scope
    if role in BUREAU_ROLES:
        return inbox.c.recipient == f"bureau:{role}"
    if role == "merchant":
        return inbox.c.recipient == f"merchant:{scope}"
    raise Forbidden("forbidden", "您的角色没有收件箱。", role=role)


def read_inbox(session, actor: dict, campaign_id=None, limit=100, offset=0) -> dict:
    limit, offset = _page(limit, offset)
    query = select(inbox).order_by(inbox.c.delivered_at.desc(), inbox.c.id.desc())
    visible = _visible_to(actor)
    if visible is not None:
        query = query.where(visible)
    if campaign_id:
        query = query.where(inbox.c.campaign_id == campaign_id)
    rows = session.execute(query.limit(limit).offset(offset)).all()
    return {"messages": [{
        "id": row.id, "campaign_id": row.campaign_id, "recipient": row.recipient,
        "township_code": row.township_code, "kind": row.kind, "subject": row.subject,
        "body": row.body, "delivered_at": local_iso(row.delivered_at)}
        for row in rows], "limit": limit, "offset": offset}


def read_deliveries(session, status=None, limit=100, offset=0) -> dict:
    limit, offset = _page(limit, offset)
    query = select(deliveries).order_by(deliveries.c.created_at.desc(),
                                        deliveries.c.delivery_id)
    if status:
        query = query.where(deliveries.c.status == status)
    rows = session.execute(query.limit(limit).offset(offset)).all()
    return {"deliveries": [{
        "delivery_id": row.delivery_id, "campaign_id": row.campaign_id,
        "kind": row.kind, "occurrence_date": row.occurrence_date.isoformat(),
        "recipient": row.recipient, "channel": row.channel, "status": row.status,
        "attempts": row.attempts, "last_error": row.last_error,
        "reason": row.reason, "sent_at": local_iso(row.sent_at)}
        for row in rows], "limit": limit, "offset": offset}
