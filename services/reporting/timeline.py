"""Daily figures for charts and the Monday weekly report's week window."""

from datetime import date, timedelta

from sqlalchemy import and_, case, func, or_, select

from aixin.errors import InvalidInput
from services.reporting.models import vouchers

DAILY_COLUMNS = ("issued", "voided", "redeemed_count", "redeemed_fen")


def report_week(monday: date) -> tuple[date, date]:
    """Return the Monday-to-Sunday week that the report due on ``monday`` covers."""
    if monday.weekday() != 0:
        raise InvalidInput("not_a_monday",
                           f"日期 {monday.isoformat()} 不是星期一：周报按星期一报送，"
                           "请填写要报送的那个星期一。", monday=monday.isoformat())
    return monday - timedelta(days=7), monday - timedelta(days=1)


def latest_monday(today: date) -> date:
    return today - timedelta(days=today.weekday())


def daily_series(session, campaign_id: str, township_code: str | None = None) -> list:
    """Return one row per day with that day's counts and the running totals."""
    days: dict[date, dict] = {}
    measures = (
        ("issued", vouchers.c.issued_on, func.count()),
        ("voided", vouchers.c.voided_on, func.count()),
        ("redeemed_count", vouchers.c.redeemed_on, func.count()),
        ("redeemed_fen", vouchers.c.redeemed_on,
         func.coalesce(func.sum(vouchers.c.voucher_part_fen), 0)),
    )
    for name, day_column, aggregate in measures:
        query = (select(day_column, aggregate)
                 .where(vouchers.c.campaign_id == campaign_id, day_column.is_not(None))
                 .group_by(day_column))
        if township_code:
            query = query.where(vouchers.c.township_code == township_code)
        for day, value in session.execute(query):
            days.setdefault(day, dict.fromkeys(DAILY_COLUMNS, 0))[name] = int(value)
    running = dict.fromkeys(DAILY_COLUMNS, 0)
    series = []
    for day in sorted(days):
        for name in DAILY_COLUMNS:
            running[name] += days[day][name]
        series.append({"date": day.isoformat(), **days[day],
                       **{f"{name}_total": running[name] for name in DAILY_COLUMNS}})
    return series


def week_figures(session, campaign_id: str, week_start: date, week_end: date,
                 group_by, township_code: str | None = None) -> dict:
    """Return last week's and cumulative hand-outs and redemptions per ``group_by``.

    A week's hand-outs count every voucher issued that week. The cumulative figure
    counts vouchers issued by the Sunday and not voided by then.
    """
    issued_by_end = vouchers.c.issued_on <= week_end
    still_valid = or_(vouchers.c.voided_on.is_(None), vouchers.c.voided_on > week_end)
    in_week = and_(vouchers.c.issued_on >= week_start, issued_by_end)
    redeemed_week = and_(vouchers.c.redeemed_on >= week_start,
                         vouchers.c.redeemed_on <= week_end)
    redeemed_total = vouchers.c.redeemed_on <= week_end
    query = select(
        group_by.label("unit"),
        _count(in_week).label("handed_out_week"),
        _count(and_(issued_by_end, still_valid)).label("handed_out_total"),
        _count(and_(issued_by_end, vouchers.c.late.is_(True))).label("late_total"),
        _count(redeemed_week).label("redeemed_week"),
        _count(redeemed_total).label("redeemed_total"),
        _amount(redeemed_week).label("redeemed_amount_week_fen"),
        _amount(redeemed_total).label("redeemed_amount_total_fen"),
    ).where(vouchers.c.campaign_id == campaign_id).group_by(group_by)
    if township_code:
        query = query.where(vouchers.c.township_code == township_code)
    return {row.unit: {key: int(value) for key, value in row._asdict().items()
                       if key != "unit"}
            for row in session.execute(query)}


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _amount(condition):
    return func.coalesce(func.sum(case((condition, vouchers.c.voucher_part_fen),
                                       else_=0)), 0)
