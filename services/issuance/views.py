"""Read views: beneficiary search, one voucher, the public voucher page."""

from sqlalchemy import select

from aixin.errors import InvalidInput, NotFound
from aixin.vouchers import canonical_serial, verify_check_code
from services.issuance.domain.states import STATE_LABELS, VoucherState
from services.issuance.domain.voids import VOID_REASON_LABELS, VoidReason
from services.issuance.lookups import iso, load_voucher, masked_name, vouchers_of
from services.issuance.models import (beneficiaries, campaigns, merchants, townships,
                                      vouchers)

SEARCH_LIMIT = 200


def _voucher_summary(row) -> dict:
    return {"serial": row.serial, "state": row.state,
            "recipient_kind": row.recipient_kind, "issued_at": iso(row.issued_at),
            "late": row.late, "void_reason": row.void_reason,
            "voided_at": iso(row.voided_at), "redeemed_at": iso(row.redeemed_at),
            "redeemed_merchant_code": row.redeemed_merchant_code,
            "replaces_serial": row.replaces_serial}


def search_beneficiaries(session, campaign_id: str, township_code: str,
                         name=None, village=None, masked_id=None) -> dict:
    """Find persons by part of the name, exact village, or masked ID number.

    The masked ID number matches on its first 6 and last 4 characters, so any
    number of asterisks in between may be typed.
    """
    query = select(beneficiaries).where(
        beneficiaries.c.campaign_id == campaign_id,
        beneficiaries.c.township_code == township_code)
    if name:
        query = query.where(beneficiaries.c.name.contains(name, autoescape=True))
    if village:
        query = query.where(beneficiaries.c.village == village)
    if masked_id:
        text = masked_id.strip().upper()
        if len(text) < 10 or "*" not in text:
            raise InvalidInput("invalid_masked_id",
                               f"身份证号“{masked_id}”应为脱敏格式（前6位+星号+后4位），"
                               "请勿输入完整身份证号。")
        query = query.where(beneficiaries.c.masked_id.startswith(text[:6]),
                            beneficiaries.c.masked_id.endswith(text[-4:]))
    rows = session.execute(query.order_by(beneficiaries.c.village,
                                          beneficiaries.c.name)
                           .limit(SEARCH_LIMIT + 1)).all()
    return {"truncated": len(rows) > SEARCH_LIMIT, "beneficiaries": [
        {"beneficiary_id": row.beneficiary_id, "name": row.name,
         "masked_id": row.masked_id, "village": row.village,
         "support_mode": row.support_mode, "institution": row.institution,
         "status": row.status, "status_reason": row.status_reason,
         "vouchers": [_voucher_summary(voucher) for voucher in vouchers_of(
             session, campaign_id, row.beneficiary_id)]}
        for row in rows[:SEARCH_LIMIT]]}


def voucher_detail(session, campaign_id: str, township_code: str, serial: str) -> dict:
    row = load_voucher(session, campaign_id, township_code, serial)
    person = None
    if row.beneficiary_id:
        person = session.execute(select(beneficiaries).where(
            beneficiaries.c.campaign_id == campaign_id,
            beneficiaries.c.beneficiary_id == row.beneficiary_id)).first()
    return {**_voucher_summary(row), "township_code": row.township_code,
            "batch_id": row.batch_id, "operator": row.operator,
            "collection_id": row.collection_id, "voided_by": row.voided_by,
            "beneficiary": person and {
                "beneficiary_id": person.beneficiary_id, "name": person.name,
                "masked_id": person.masked_id, "village": person.village,
                "institution": person.institution}}


def _unknown_voucher() -> NotFound:
    # One error for an unknown serial and a wrong check code, so that the page
    # reveals nothing to someone guessing serials.
    return NotFound("voucher_not_found",
                    "未找到该消费券：请核对券号和校验码。")


def public_voucher(session, key: bytes, serial: str, code: str) -> dict:
    """Return what the public may see of a voucher whose check code is right."""
    try:
        serial = canonical_serial(serial)
        valid = bool(code) and verify_check_code(key, serial, code)
    except InvalidInput:
        valid = False
    row = session.execute(select(vouchers).where(vouchers.c.serial == serial)
                          ).first() if valid else None
    if row is None:
        raise _unknown_voucher()
    campaign = session.execute(select(campaigns).where(
        campaigns.c.campaign_id == row.campaign_id)).first()
    township = session.execute(select(townships.c.name).where(
        townships.c.campaign_id == row.campaign_id,
        townships.c.township_code == row.township_code)).first()
    view = {"serial": row.serial, "state": row.state,
            "state_label": STATE_LABELS[VoucherState(row.state)],
            "campaign_name": campaign.name if campaign else None,
            "face_value_fen": campaign.face_value_fen if campaign else None,
            "township_name": township.name if township else None,
            "handed_out_to": None, "handed_out_at": None, "recipient_kind": None,
            "redeemed_at": None, "merchant_code": None, "merchant_name": None,
            "void_reason": None}
    if row.ever_issued:
        person = session.execute(select(beneficiaries.c.name).where(
            beneficiaries.c.campaign_id == row.campaign_id,
            beneficiaries.c.beneficiary_id == row.beneficiary_id)).first()
        view.update(handed_out_to=masked_name(person.name) if person else None,
                    handed_out_at=iso(row.issued_at), recipient_kind=row.recipient_kind)
    if row.state == VoucherState.REDEEMED:
        merchant = session.execute(select(merchants.c.name).where(
            merchants.c.campaign_id == row.campaign_id,
            merchants.c.merchant_code == row.redeemed_merchant_code)).first()
        view.update(redeemed_at=iso(row.redeemed_at),
                    merchant_code=row.redeemed_merchant_code,
                    merchant_name=merchant.name if merchant else None)
    if row.state == VoucherState.VOIDED:
        view["void_reason"] = VOID_REASON_LABELS[VoidReason(row.void_reason)]
    return view
