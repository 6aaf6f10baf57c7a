"""Reading and writing the ledger and the copies that the domain rules work on.

A change to the ledger loads every transfer of the campaign into a domain Ledger,
posts the new transfers there, and saves only what the Ledger appended. The unique
keys of the ``transfers`` table back up the Ledger's own replay checks.
"""

from datetime import datetime

from sqlalchemy import insert, select

from aixin.clock import CAMPAIGN_TZ, as_local
from aixin.errors import NotFound
from services.settlement.domain.ledger import Ledger, Transfer
from services.settlement.domain.reimbursement import AuditStatus, Redemption
from services.settlement.models import campaigns, redemptions, townships, transfers


def aware(moment: datetime | None) -> datetime | None:
    """Return a stored time as campaign local time.

    SQLite drops the offset, and every time is stored as campaign local time, so a
    naive value read back is campaign local time.
    """
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=CAMPAIGN_TZ)
    return as_local(moment)


def iso(moment: datetime | None) -> str | None:
    return aware(moment).isoformat() if moment is not None else None


def load_campaign(session, campaign_id: str, lock: bool = False):
    """Return the campaign row; with ``lock`` hold it until the transaction ends.

    Every change of a campaign's ledger locks the row first, so on PostgreSQL two
    workers never post from the same stale ledger.
    """
    query = select(campaigns).where(campaigns.c.campaign_id == campaign_id)
    if lock:
        query = query.with_for_update()
    row = session.execute(query).first()
    if row is None:
        raise NotFound("campaign_not_found",
                       f"活动 {campaign_id} 不存在或尚未同步到财政结算：请核对活动编号，"
                       "或稍后重试。", campaign_id=campaign_id)
    return row


def load_townships(session, campaign_id: str) -> list:
    return session.execute(select(townships)
                           .where(townships.c.campaign_id == campaign_id)
                           .order_by(townships.c.township_code)).all()


def load_township(session, campaign_id: str, township_code: str):
    row = session.execute(select(townships).where(
        townships.c.campaign_id == campaign_id,
        townships.c.township_code == township_code)).first()
    if row is None:
        raise NotFound("township_not_found",
                       f"活动 {campaign_id} 的花名册中没有镇（街道）{township_code}："
                       "请核对区划代码。", township_code=township_code)
    return row


def load_ledger(session, campaign_id: str) -> Ledger:
    rows = session.execute(select(transfers)
                           .where(transfers.c.campaign_id == campaign_id)
                           .order_by(transfers.c.position)).all()
    return Ledger(_transfer_of(row) for row in rows)


def save_new(session, campaign_id: str, ledger: Ledger, loaded_count: int) -> list:
    """Insert the transfers posted since the ledger was loaded and return them."""
    new = list(ledger.transfers[loaded_count:])
    for transfer in new:
        session.execute(insert(transfers).values(
            transfer_id=transfer.transfer_id, campaign_id=campaign_id,
            debit=transfer.debit, credit=transfer.credit,
            amount_fen=transfer.amount_fen, reason=transfer.reason.value,
            source_event_id=transfer.source_event_id,
            occurred_at=as_local(transfer.occurred_at), memo=transfer.memo,
            reverses=transfer.reverses))
    return new


def load_redemptions(session, campaign_id: str) -> list[Redemption]:
    rows = session.execute(select(redemptions)
                           .where(redemptions.c.campaign_id == campaign_id)
                           .order_by(redemptions.c.redemption_id)).all()
    return [redemption_of(row) for row in rows]


def redemption_of(row) -> Redemption:
    return Redemption(row.redemption_id, row.township_code, row.merchant_code,
                      row.voucher_part_fen, AuditStatus(row.status))


def _transfer_of(row) -> Transfer:
    return Transfer(transfer_id=row.transfer_id, debit=row.debit, credit=row.credit,
                    amount_fen=row.amount_fen, reason=row.reason,
                    source_event_id=row.source_event_id,
                    occurred_at=aware(row.occurred_at), memo=row.memo,
                    reverses=row.reverses)
