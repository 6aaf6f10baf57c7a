"""Periods of whole days, as merchants' statements and audits cover them."""

from datetime import date

from sqlalchemy import select

from aixin.clock import end_of_day, start_of_day
from aixin.errors import InvalidInput, NotFound
from services.redemption.models import merchants, redemptions


def check_period(period_from: date, period_to: date) -> None:
    if period_from > period_to:
        raise InvalidInput("invalid_period",
                           f"时段起始日 {period_from} 晚于结束日 {period_to}：请核对。",
                           period_from=period_from.isoformat(),
                           period_to=period_to.isoformat())


def redemptions_in_period(session, campaign_id: str, merchant_code: str,
                          period_from: date, period_to: date, *conditions) -> list:
    """Return the merchant's redemptions made from the first to the last day, local time."""
    return session.execute(
        select(redemptions)
        .where(redemptions.c.campaign_id == campaign_id,
               redemptions.c.merchant_code == merchant_code,
               redemptions.c.redeemed_at >= start_of_day(period_from),
               redemptions.c.redeemed_at <= end_of_day(period_to), *conditions)
        .order_by(redemptions.c.redeemed_at, redemptions.c.redemption_id)).all()


def require_merchant(session, campaign_id: str, merchant_code: str):
    merchant = session.execute(
        select(merchants).where(merchants.c.campaign_id == campaign_id,
                                merchants.c.merchant_code == merchant_code)).first()
    if merchant is None:
        raise NotFound("merchant_not_found",
                       f"商超 {merchant_code} 不是活动 {campaign_id} 的指定商超：请核对代码。",
                       merchant_code=merchant_code)
    return merchant
