"""Creating campaigns and designating merchants: the Commerce Bureau's set-up."""

from sqlalchemy import func, insert, select

from aixin.commands import record_audit
from aixin.errors import Conflict, InvalidInput, NotFound
from aixin.outbox import record_event
from services.redemption.domain.campaign import campaign_id_for, complete_dates
from services.redemption.domain.uscc import validate_uscc
from services.redemption.models import campaigns, merchant_townships, merchants
from services.roster.domain.divisions import DivisionIndex


def check_district(config: dict) -> None:
    """Reject a district code that is not a county-level division of China.

    The statistical division data shipped with the roster service is the one list of
    districts and their townships, so the campaign is checked against it too.
    """
    try:
        district = DivisionIndex.load().district(config["district_code"])
    except KeyError:
        raise InvalidInput(
            "unknown_district",
            f"区县代码 {config['district_code']} 不存在：请填写6位县级行政区划代码，"
            "例如郾城区为 411103。", field="district_code") from None
    if config["district_name"] != district.name:
        raise InvalidInput(
            "district_name_mismatch",
            f"区县名称 {config['district_name']} 与代码 {district.code} 不符：该代码是"
            f"{district.name}。", field="district_name")


def create_campaign(session, config: dict, actor: str, now) -> dict:
    check_district(config)
    config = complete_dates(config)
    campaign_id = campaign_id_for(config["district_code"], config["snapshot_month"])
    if session.execute(select(campaigns.c.campaign_id)
                       .where(campaigns.c.campaign_id == campaign_id)).first():
        raise Conflict("campaign_exists",
                       f"活动 {campaign_id} 已存在：同一区县同一花名册月份只能创建一次活动。",
                       campaign_id=campaign_id)
    campaign_no = (session.execute(select(func.max(campaigns.c.campaign_no))).scalar()
                   or 0) + 1
    data = {**config, "campaign_id": campaign_id, "campaign_no": campaign_no}
    stored = {key: (value.isoformat() if hasattr(value, "isoformat") else value)
              for key, value in data.items()}
    session.execute(insert(campaigns).values(
        campaign_id=campaign_id, campaign_no=campaign_no, config=stored,
        created_at=now, created_by=actor))
    record_audit(session, now, actor, "create_campaign", campaign_id)
    record_event(session, "campaign_created", data, now)
    return stored


def load_campaign(session, campaign_id: str) -> dict:
    row = session.execute(select(campaigns.c.config)
                          .where(campaigns.c.campaign_id == campaign_id)).first()
    if row is None:
        raise NotFound("campaign_not_found",
                       f"活动 {campaign_id} 不存在：请先创建活动或核对活动编号。",
                       campaign_id=campaign_id)
    return row.config


def check_designation(campaign: dict, merchant: dict) -> None:
    """Reject townships outside the campaign's district and impossible opening hours."""
    outside = [code for code in merchant["township_codes"]
               if not code.startswith(campaign["district_code"])]
    if outside:
        raise InvalidInput(
            "township_outside_district",
            f"乡镇代码 {'、'.join(outside)} 不属于本活动的区县 {campaign['district_code']}："
            "请只填写本区县的乡镇（街道）代码。", township_codes=outside)
    opens, closes = merchant["opening_hours"].split("-")
    if not (_valid_time(opens) and _valid_time(closes) and opens < closes):
        raise InvalidInput(
            "invalid_opening_hours",
            f"营业时间 {merchant['opening_hours']} 无效：请按“08:00-22:00”的格式填写，"
            "开门时间早于关门时间。", field="opening_hours")


def _valid_time(text: str) -> bool:
    hours, minutes = int(text[:2]), int(text[3:])
    return hours < 24 and minutes < 60


def designate_merchant(session, campaign_id: str, merchant: dict, actor: str, now) -> dict:
    campaign = load_campaign(session, campaign_id)
    check_designation(campaign, merchant)
    merchant = {**merchant, "merchant_code": validate_uscc(merchant["merchant_code"])}
    if not merchant["above_size"]:
        raise InvalidInput(
            "merchant_not_above_size",
            f"商超 {merchant['name']} 不在四上企业库中，不能被指定为爱心消费券商超。",
            merchant_code=merchant["merchant_code"])
    if merchant["valid_from"] > merchant["valid_to"]:
        raise InvalidInput("invalid_designation_period",
                           f"指定期限起始日 {merchant['valid_from']} 晚于结束日 "
                           f"{merchant['valid_to']}：请核对。")
    key = (merchants.c.campaign_id == campaign_id,
           merchants.c.merchant_code == merchant["merchant_code"])
    if session.execute(select(merchants.c.merchant_code).where(*key)).first():
        raise Conflict("merchant_already_designated",
                       f"商超 {merchant['merchant_code']} 已被指定：如需变更请先撤销原指定。",
                       merchant_code=merchant["merchant_code"])
    columns = {k: v for k, v in merchant.items() if k != "township_codes"}
    session.execute(insert(merchants).values(
        campaign_id=campaign_id, designated_at=now, designated_by=actor, **columns))
    for township_code in sorted(set(merchant["township_codes"])):
        session.execute(insert(merchant_townships).values(
            campaign_id=campaign_id, merchant_code=merchant["merchant_code"],
            township_code=township_code))
    record_audit(session, now, actor, "designate_merchant", merchant["merchant_code"],
                 campaign_id=campaign_id)
    record_event(session, "merchant_designated", {**merchant, "campaign_id": campaign_id},
                 now)
    return {"campaign_id": campaign_id, "merchant_code": merchant["merchant_code"]}
