"""Campaign configuration: dates, amounts and rules of one run of the programme."""

from datetime import date

from lunardate import LunarDate

from aixin.errors import InvalidInput
from services.redemption.domain.statement import DEFAULT_CASH_EQUIVALENT_CATEGORIES

DEFAULT_CASH_EQUIVALENTS = list(DEFAULT_CASH_EQUIVALENT_CATEGORIES)


def first_of_month(month: str) -> date:
    year, number = month.split("-")
    return date(int(year), int(number), 1)


def spring_festival_after(day: date) -> date:
    """Return the first Spring Festival (lunar new year's day) on or after ``day``."""
    festival = LunarDate(day.year, 1, 1).to_solar_date()
    if festival < day:
        festival = LunarDate(day.year + 1, 1, 1).to_solar_date()
    return festival


def complete_dates(config: dict) -> dict:
    """Fill the Spring Festival from the lunar calendar unless given, then check order."""
    config = dict(config)
    if not config.get("spring_festival"):
        config["spring_festival"] = spring_festival_after(
            first_of_month(config["snapshot_month"]))
    order = ["funds_due", "spring_festival", "redemption_deadline", "joint_audit_date",
             "clearing_deadline"]
    for earlier, later in zip(order, order[1:]):
        if config[earlier] > config[later]:
            raise InvalidInput(
                "invalid_campaign_dates",
                f"活动日期顺序有误：{earlier}（{config[earlier]}）晚于 {later}"
                f"（{config[later]}）。请按 资金到位 ≤ 春节 ≤ 核销截止 ≤ 联合审核 ≤ 清算截止 填写。",
                field=later)
    if first_of_month(config["snapshot_month"]) > config["funds_due"]:
        raise InvalidInput(
            "invalid_campaign_dates",
            f"花名册月份 {config['snapshot_month']} 晚于资金到位日期 {config['funds_due']}：请核对。",
            field="snapshot_month")
    return config


def campaign_id_for(district_code: str, snapshot_month: str) -> str:
    return f"{district_code}-{snapshot_month}"
