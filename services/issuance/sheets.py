"""Sign-off sheets (签领表): who collects which voucher, per village or institution."""

import base64

from sqlalchemy import select

from aixin.errors import InvalidInput, NotFound
from services.issuance import documents
from services.issuance.domain.states import VoucherState
from services.issuance.lookups import load_campaign, load_township, vouchers_of
from services.issuance.models import beneficiaries, institution_collections

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def sign_off_sheet(session, campaign_id: str, township_code: str, village=None,
                   institution=None) -> documents.SignOffSheet:
    """Collect the entitled persons of one village or one institution with serials.

    A village sheet lists the persons who collect their own voucher; residents of
    institutions are on their institution's sheet.
    """
    if bool(village) == bool(institution):
        raise InvalidInput("sign_off_unit_required",
                           "请指定一个村（社区）或一个供养机构，二者选其一。")
    campaign = load_campaign(session, campaign_id)
    township = load_township(session, campaign_id, township_code)
    query = select(beneficiaries).where(
        beneficiaries.c.campaign_id == campaign_id,
        beneficiaries.c.township_code == township_code,
        beneficiaries.c.status == "entitled")
    if institution:
        query = query.where(beneficiaries.c.support_mode == "institutional",
                            beneficiaries.c.institution == institution)
    else:
        query = query.where(beneficiaries.c.village == village,
                            beneficiaries.c.support_mode != "institutional")
    people = session.execute(query.order_by(beneficiaries.c.name)).all()
    if not people:
        unit = institution or village
        raise NotFound("sign_off_unit_not_found",
                       f"“{unit}”在本镇（街道）没有发放对象，请核对名称。", unit=unit)
    manager = _latest_manager(session, campaign_id, township_code, institution)
    return documents.SignOffSheet(
        campaign_name=campaign.name, township_name=township.name,
        unit_name=institution or village, is_institution=bool(institution),
        face_value_fen=campaign.face_value_fen,
        persons=[_line(session, campaign_id, person) for person in people],
        manager_name=manager.manager_name if manager else None,
        manager_masked_id_number=manager.manager_masked_id if manager else None,
        manager_phone=manager.manager_phone if manager else None)


def _line(session, campaign_id, person) -> documents.SignOffPerson:
    live = [row for row in vouchers_of(session, campaign_id, person.beneficiary_id)
            if row.state != VoucherState.VOIDED and row.ever_issued]
    voucher = live[-1] if live else None
    note = "补发" if voucher and voucher.replaces_serial else ""
    return documents.SignOffPerson(name=person.name, masked_id_number=person.masked_id,
                                   serial=voucher.serial if voucher else None,
                                   note=note)


def _latest_manager(session, campaign_id, township_code, institution):
    if not institution:
        return None
    return session.execute(select(institution_collections).where(
        institution_collections.c.campaign_id == campaign_id,
        institution_collections.c.township_code == township_code,
        institution_collections.c.institution == institution)
        .order_by(institution_collections.c.collected_at.desc())).first()


def file_payload(filename: str, kind: str, content: bytes) -> dict:
    """Wrap file bytes the way the gateway serves documents."""
    return {"filename": filename, "content_type": CONTENT_TYPES[kind],
            "content_b64": base64.b64encode(content).decode("ascii")}


def render_sign_off(sheet: documents.SignOffSheet, kind: str) -> dict:
    if kind not in CONTENT_TYPES:
        raise InvalidInput("invalid_format",
                           f"文件格式“{kind}”无效，请选择 pdf 或 xlsx。", format=kind)
    render = (documents.render_sign_off_pdf if kind == "pdf"
              else documents.render_sign_off_xlsx)
    return file_payload(f"签领表-{sheet.township_name}-{sheet.unit_name}.{kind}", kind,
                        render(sheet))
