"""Reading the rows that every issuance operation starts from, or raising NotFound."""

from sqlalchemy import select

from aixin.clock import CAMPAIGN_TZ
from aixin.errors import Conflict, NotFound
from aixin.vouchers import canonical_serial
from services.issuance.models import beneficiaries, campaigns, townships, vouchers

def load_campaign(session, campaign_id: str):
    row = session.execute(select(campaigns)
                          .where(campaigns.c.campaign_id == campaign_id)).first()
    if row is None:
        raise NotFound("campaign_not_found",
                       f"活动 {campaign_id} 不存在或尚未同步到发放系统，请核对活动编号。",
                       campaign_id=campaign_id)
    return row


def load_township(session, campaign_id: str, township_code: str, for_update=False):
    query = select(townships).where(townships.c.campaign_id == campaign_id,
                                    townships.c.township_code == township_code)
    if for_update:
        query = query.with_for_update()
    row = session.execute(query).first()
    if row is None:
        raise NotFound("township_not_found",
                       f"镇（街道）{township_code} 在活动 {campaign_id} 中没有发放名单，"
                       "请待民政局公布名单后再试。",
                       township_code=township_code)
    return row


def eligible_count(township_row) -> int:
    return (township_row.published_eligible or 0) + township_row.amendment_delta


def require_published(township_row) -> None:
    if township_row.published_eligible is None:
        raise Conflict("roster_not_published",
                       "本镇（街道）的发放名单尚未公布完成，请待民政局公布名单后再操作。",
                       township_code=township_row.township_code)


def load_voucher(session, campaign_id: str, township_code: str, serial: str,
                 for_update=False):
    """Return the voucher row of a typed serial printed for this township."""
    query = select(vouchers).where(vouchers.c.serial == canonical_serial(serial),
                                   vouchers.c.campaign_id == campaign_id,
                                   vouchers.c.township_code == township_code)
    if for_update:
        query = query.with_for_update()
    row = session.execute(query).first()
    if row is None:
        raise NotFound("voucher_not_found",
                       f"券号 {serial} 未在本镇（街道）印制，请核对券号。", serial=serial)
    return row


def load_beneficiary(session, campaign_id: str, township_code: str,
                     beneficiary_id: str, for_update=False):
    query = select(beneficiaries).where(
        beneficiaries.c.campaign_id == campaign_id,
        beneficiaries.c.beneficiary_id == beneficiary_id,
        beneficiaries.c.township_code == township_code)
    if for_update:
        # Serialises concurrent hand-outs to one person on PostgreSQL.
        query = query.with_for_update()
    row = session.execute(query).first()
    if row is None:
        raise NotFound("beneficiary_not_found",
                       f"发放对象 {beneficiary_id} 不在本镇（街道）的发放名单中，请核对。",
                       beneficiary_id=beneficiary_id)
    return row


def vouchers_of(session, campaign_id: str, beneficiary_id: str) -> list:
    return session.execute(select(vouchers).where(
        vouchers.c.campaign_id == campaign_id,
        vouchers.c.beneficiary_id == beneficiary_id)
        .order_by(vouchers.c.issued_at)).all()


def masked_name(name: str) -> str:
    """Mask a name for public display: 张三明 becomes 张*明, 张三 becomes 张*."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def iso(moment) -> str | None:
    """Format a stored datetime in campaign local time.

    SQLite returns the stored local time without an offset, PostgreSQL an aware
    datetime in the session's zone; both come out as Asia/Shanghai.
    """
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=CAMPAIGN_TZ).isoformat()
    return moment.astimezone(CAMPAIGN_TZ).isoformat()
