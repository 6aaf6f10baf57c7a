"""The roster service's own copy of each campaign, from campaign_created events."""

import logging

from sqlalchemy import insert, select

from aixin.errors import NotFound
from services.roster.models import campaigns

log = logging.getLogger(__name__)


def store_campaign(session, data: dict, now) -> None:
    """Keep what the roster needs of a new campaign; a second copy changes nothing."""
    campaign_id = data["campaign_id"]
    if session.execute(select(campaigns.c.campaign_id)
                       .where(campaigns.c.campaign_id == campaign_id)).first():
        log.info("campaign already known campaign_id=%s", campaign_id)
        return
    session.execute(insert(campaigns).values(
        campaign_id=campaign_id, name=data["name"],
        district_code=data["district_code"], district_name=data["district_name"],
        snapshot_month=data["snapshot_month"], face_value_fen=data["face_value_fen"],
        received_at=now))
    log.info("campaign stored campaign_id=%s district=%s", campaign_id,
             data["district_code"])


def load_campaign(session, campaign_id: str) -> dict:
    row = session.execute(select(campaigns)
                          .where(campaigns.c.campaign_id == campaign_id)).first()
    if row is None:
        raise NotFound("campaign_not_found",
                       f"活动 {campaign_id} 不存在，或民政局尚未收到该活动：请核对活动编号，"
                       "或稍后重试。", campaign_id=campaign_id)
    return dict(row._mapping)
