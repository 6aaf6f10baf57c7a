"""Print runs: a township orders vouchers from one of its designated merchants."""

import logging
import uuid

from sqlalchemy import func, insert, select, update

from aixin.commands import record_audit
from aixin.errors import Conflict, InvalidInput, NotFound
from aixin.outbox import record_event
from aixin.vouchers import check_code, make_serial
from services.issuance import documents
from services.issuance.domain import states
from services.issuance.domain.print_run import next_sequences, print_run_size
from services.issuance.lookups import (eligible_count, iso, load_campaign,
                                       load_township, require_published)
from services.issuance.models import (merchant_townships, merchants, print_batches,
                                      townships, vouchers)

log = logging.getLogger(__name__)


def designated_merchants(session, campaign_id: str, township_code: str) -> list:
    return session.execute(
        select(merchants).join(merchant_townships, (
            merchant_townships.c.campaign_id == merchants.c.campaign_id)
            & (merchant_townships.c.merchant_code == merchants.c.merchant_code))
        .where(merchants.c.campaign_id == campaign_id,
               merchant_townships.c.township_code == township_code)
        .order_by(merchants.c.merchant_code)).all()


def order_print_batch(session, campaign_id: str, township_code: str, command: dict,
                      actor: str, now) -> dict:
    """Record a print run and its vouchers in stock; return the batch and serials."""
    campaign = load_campaign(session, campaign_id)
    township = load_township(session, campaign_id, township_code, for_update=True)
    require_published(township)
    if township.handout_ended_at is not None:
        raise Conflict("handout_ended", "本镇（街道）已结束发放，不能再印制消费券。")
    merchant_code = command["merchant_code"]
    if merchant_code not in {row.merchant_code for row in designated_merchants(
            session, campaign_id, township_code)}:
        raise InvalidInput("merchant_not_designated",
                           f"商超 {merchant_code} 不是本镇（街道）的指定商超，"
                           "请选择本镇的指定商超印制。", merchant_code=merchant_code)
    eligible = eligible_count(township)
    count = command.get("count") or _shortfall(session, campaign, township, eligible)
    sequences = next_sequences(township.last_sequence, count)
    serials = [make_serial(campaign.campaign_no, township_code, sequence)
               for sequence in sequences]
    batch_id = str(uuid.uuid4())
    batch_no = session.execute(select(func.count()).select_from(print_batches).where(
        print_batches.c.campaign_id == campaign_id,
        print_batches.c.township_code == township_code)).scalar() + 1
    session.execute(insert(print_batches).values(
        batch_id=batch_id, campaign_id=campaign_id, township_code=township_code,
        batch_no=batch_no, merchant_code=merchant_code, eligible_count=eligible,
        voucher_count=count, first_sequence=sequences[0],
        last_sequence=sequences[-1], printed_at=now, printed_by=actor))
    session.execute(insert(vouchers), [
        {"serial": serial, "campaign_id": campaign_id, "township_code": township_code,
         "batch_id": batch_id, "state": states.VoucherState.IN_STOCK,
         "ever_issued": False, "late": False} for serial in serials])
    session.execute(update(townships).where(
        townships.c.campaign_id == campaign_id,
        townships.c.township_code == township_code)
        .values(last_sequence=sequences[-1]))
    record_audit(session, now, actor, "print", batch_id, None,
                 operator=command["operator"], township_code=township_code,
                 merchant_code=merchant_code, count=count,
                 first_serial=serials[0], last_serial=serials[-1])
    record_event(session, "vouchers_printed", {
        "campaign_id": campaign_id, "batch_id": batch_id,
        "township_code": township_code, "merchant_code": merchant_code,
        "serials": serials, "printed_at": now}, now)
    log.info("print batch recorded batch_id=%s township=%s count=%s",
             batch_id, township_code, count)
    return {"batch_id": batch_id, "batch_no": batch_no, "merchant_code": merchant_code,
            "eligible": eligible, "count": count, "printed_at": now.isoformat(),
            "serials": serials}


def _shortfall(session, campaign, township, eligible: int) -> int:
    """Return how many vouchers the township still needs: eligible plus spares."""
    printed = session.execute(select(func.coalesce(func.sum(
        print_batches.c.voucher_count), 0)).where(
        print_batches.c.campaign_id == campaign.campaign_id,
        print_batches.c.township_code == township.township_code)).scalar()
    needed = print_run_size(eligible, campaign.spare_share_percent) - printed
    if needed <= 0:
        raise Conflict("nothing_to_print",
                       f"本镇（街道）已印制 {printed} 张，已满足 {eligible} 名发放对象及备用券"
                       "所需；如需加印请填写印制数量。", printed=printed, eligible=eligible)
    return needed


def list_batches(session, campaign_id: str, township_code: str) -> list:
    rows = session.execute(select(print_batches).where(
        print_batches.c.campaign_id == campaign_id,
        print_batches.c.township_code == township_code)
        .order_by(print_batches.c.batch_no)).all()
    return [{"batch_id": row.batch_id, "batch_no": row.batch_no,
             "merchant_code": row.merchant_code, "eligible": row.eligible_count,
             "count": row.voucher_count, "printed_at": iso(row.printed_at),
             "printed_by": row.printed_by} for row in rows]


def batch_document(session, campaign_id: str, township_code: str, batch_id: str,
                   key: bytes) -> documents.PrintBatch:
    """Assemble the data of a print run's PDF and list, with recomputed check codes."""
    campaign = load_campaign(session, campaign_id)
    township = load_township(session, campaign_id, township_code)
    batch = session.execute(select(print_batches).where(
        print_batches.c.batch_id == batch_id,
        print_batches.c.campaign_id == campaign_id,
        print_batches.c.township_code == township_code)).first()
    if batch is None:
        raise NotFound("print_batch_not_found",
                       f"印制批次 {batch_id} 不存在，请核对批次编号。", batch_id=batch_id)
    serials = session.execute(select(vouchers.c.serial).where(
        vouchers.c.batch_id == batch_id).order_by(vouchers.c.serial)).scalars().all()
    places = designated_merchants(session, campaign_id, township_code)
    printer = next((row for row in places if row.merchant_code == batch.merchant_code),
                   None)
    return documents.PrintBatch(
        campaign_name=campaign.name, township_name=township.name,
        batch_no=f"{township_code}-{batch.batch_no:02d}",
        printer_name=printer.name if printer else batch.merchant_code,
        merchant_names=[row.name for row in places],
        face_value_fen=campaign.face_value_fen,
        valid_from=min((row.valid_from for row in places),
                       default=batch.printed_at.date()),
        valid_until=campaign.redemption_deadline,
        vouchers=[documents.PrintedVoucher(serial, check_code(key, serial))
                  for serial in serials])
