"""Handing vouchers out: to a beneficiary, or to an institution's manager for all
its residents in one operation."""

import logging
import uuid

from sqlalchemy import insert, select, update

from aixin.commands import record_audit
from aixin.errors import Conflict
from aixin.outbox import record_event
from aixin.vouchers import canonical_serial
from services.issuance.domain import handout, states
from services.issuance.domain.errors import VoucherNotInStock
from services.issuance.lookups import (load_beneficiary, load_campaign, load_township,
                                       load_voucher, vouchers_of)
from services.issuance.models import beneficiaries, institution_collections, vouchers

log = logging.getLogger(__name__)


def check_handout_allowed(session, campaign, township_row, now) -> bool:
    """Raise unless the township may hand out now; return the late flag."""
    handout.check_funds_allocated(township_row.allocated_fen)
    return handout.check_handout_time(now, campaign.spring_festival,
                                      campaign.redemption_deadline)


def stock_serials(session, campaign_id: str, township_code: str, count: int) -> list:
    """Return the ``count`` lowest serials in stock, or raise insufficient_stock."""
    rows = session.execute(select(vouchers.c.serial).where(
        vouchers.c.campaign_id == campaign_id,
        vouchers.c.township_code == township_code,
        vouchers.c.state == states.VoucherState.IN_STOCK)
        .order_by(vouchers.c.serial).limit(count)).all()
    if len(rows) < count:
        raise Conflict("insufficient_stock",
                       f"本镇（街道）库存券只有 {len(rows)} 张，需要 {count} 张，"
                       "请先加印消费券。", in_stock=len(rows), needed=count)
    return [row.serial for row in rows]


def bind_voucher(session, campaign, township_code: str, serial: str, person,
                 recipient_kind: str, operator: str, actor: str, now, late: bool,
                 collection=None, replaces: str | None = None) -> dict:
    """Bind one voucher in stock to one entitled person and announce it."""
    handout.check_serial_belongs(serial, campaign.campaign_no, township_code)
    voucher = load_voucher(session, campaign.campaign_id, township_code, serial)
    states.issue(voucher.state, voucher.serial)
    if person.status != "entitled":
        why = person.status_reason or person.status
        raise Conflict("entitlement_ended",
                       f"{person.name} 已不在发放名单中（{why}），不能发放消费券。",
                       beneficiary_id=person.beneficiary_id)
    handout.check_beneficiary_free(
        (row.serial, row.state) for row in vouchers_of(
            session, campaign.campaign_id, person.beneficiary_id))
    changed = session.execute(update(vouchers).where(
        vouchers.c.serial == voucher.serial,
        vouchers.c.state == states.VoucherState.IN_STOCK).values(
        state=states.VoucherState.ISSUED, ever_issued=True,
        beneficiary_id=person.beneficiary_id, recipient_kind=recipient_kind,
        collection_id=collection and collection["collection_id"], operator=operator,
        issued_at=now, late=late, replaces_serial=replaces))
    if changed.rowcount != 1:
        # Another request handed the same voucher out after we read it.
        raise VoucherNotInStock(serial=voucher.serial, state="已发放")
    record_audit(session, now, actor, "issue", voucher.serial, None,
                 operator=operator, beneficiary_id=person.beneficiary_id,
                 recipient_kind=recipient_kind, late=late, replaces=replaces)
    record_event(session, "voucher_issued", {
        "campaign_id": campaign.campaign_id, "serial": voucher.serial,
        "beneficiary_id": person.beneficiary_id, "beneficiary_name": person.name,
        "masked_id": person.masked_id, "township_code": township_code,
        "village": person.village, "institution": person.institution,
        "recipient_kind": recipient_kind, "issued_at": now, "late": late}, now)
    return {"serial": voucher.serial, "beneficiary_id": person.beneficiary_id,
            "beneficiary_name": person.name, "recipient_kind": recipient_kind,
            "issued_at": now.isoformat(), "late": late, "replaces_serial": replaces}


def hand_out(session, campaign_id: str, township_code: str, command: dict,
             actor: str, now) -> dict:
    campaign = load_campaign(session, campaign_id)
    township = load_township(session, campaign_id, township_code)
    late = check_handout_allowed(session, campaign, township, now)
    person = load_beneficiary(session, campaign_id, township_code,
                              command["beneficiary_id"], for_update=True)
    return bind_voucher(session, campaign, township_code,
                        canonical_serial(command["serial"]), person,
                        command["recipient_kind"], command["operator"], actor, now,
                        late)


def collect_for_institution(session, campaign_id: str, township_code: str,
                            command: dict, actor: str, now) -> dict:
    """Hand every waiting resident's voucher of one institution to its manager."""
    campaign = load_campaign(session, campaign_id)
    township = load_township(session, campaign_id, township_code)
    late = check_handout_allowed(session, campaign, township, now)
    residents = _waiting_residents(session, campaign_id, township_code,
                                   command["institution"])
    serials = _serials_for(session, campaign_id, township_code, command, residents)
    collection = {
        "collection_id": str(uuid.uuid4()), "campaign_id": campaign_id,
        "township_code": township_code, "institution": command["institution"],
        "manager_name": command["manager_name"],
        "manager_masked_id": command["manager_masked_id"],
        "manager_phone": command["manager_phone"], "operator": command["operator"],
        "collected_at": now}
    session.execute(insert(institution_collections).values(**collection))
    issued = [
        bind_voucher(session, campaign, township_code, serial, person,
                     "institution_manager", command["operator"], actor, now, late,
                     collection=collection)
        for person, serial in zip(residents, serials)]
    record_audit(session, now, actor, "institution_collection",
                 collection["collection_id"], None, institution=command["institution"],
                 manager_name=command["manager_name"],
                 manager_masked_id=command["manager_masked_id"],
                 operator=command["operator"], vouchers=len(issued))
    return {"collection_id": collection["collection_id"],
            "institution": command["institution"],
            "manager_name": command["manager_name"], "issued": issued}


def _waiting_residents(session, campaign_id, township_code, institution) -> list:
    residents = session.execute(select(beneficiaries).where(
        beneficiaries.c.campaign_id == campaign_id,
        beneficiaries.c.township_code == township_code,
        beneficiaries.c.support_mode == "institutional",
        beneficiaries.c.institution == institution,
        beneficiaries.c.status == "entitled")
        .order_by(beneficiaries.c.name, beneficiaries.c.beneficiary_id)).all()
    waiting = [person for person in residents
               if not _holds_live_voucher(session, campaign_id, person)]
    if not waiting:
        raise Conflict("nothing_to_collect",
                       f"供养机构“{institution}”在本镇（街道）没有待领券的供养对象，"
                       "请核对机构名称。", institution=institution)
    return waiting


def _holds_live_voucher(session, campaign_id, person) -> bool:
    return any(row.state != states.VoucherState.VOIDED
               for row in vouchers_of(session, campaign_id, person.beneficiary_id))


def _serials_for(session, campaign_id, township_code, command, residents) -> list:
    given = command.get("serials")
    if given is None:
        return stock_serials(session, campaign_id, township_code, len(residents))
    if len(given) != len(residents):
        raise Conflict("serial_count_mismatch",
                       f"该机构有 {len(residents)} 名待领券的供养对象，但提供了 "
                       f"{len(given)} 个券号，请逐人对应提供券号。",
                       residents=len(residents), serials=len(given))
    return [canonical_serial(serial) for serial in given]
