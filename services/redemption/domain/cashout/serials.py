"""Vouchers with consecutive serials redeemed together at one merchant."""

from collections import defaultdict
from datetime import timedelta

from aixin.vouchers import parse_serial
from services.redemption.domain.cashout.records import (
    CONSECUTIVE_SERIALS,
    Flag,
    RedemptionRecord,
    ids_of,
    minute_text,
)


def consecutive_serials(
    records: list[RedemptionRecord], *, min_run: int, window_minutes: int
) -> list[Flag]:
    """Flag runs of ``min_run`` or more consecutive serials redeemed at one merchant.

    A run continues while the next sequence number is one higher and its
    redemption lies within ``window_minutes`` of the previous one, in either
    order. Serials are consecutive only within one campaign and township.
    """
    groups = defaultdict(list)
    for record in records:
        parts = parse_serial(record.serial)
        key = (record.merchant_id, parts.campaign_no, parts.township_prefix)
        groups[key].append((parts.sequence, record))
    window = timedelta(minutes=window_minutes)
    flags = []
    for (merchant, _, _), members in sorted(groups.items()):
        for run in _runs(sorted(members, key=lambda item: item[0]), window):
            if len(run) >= min_run:
                flags.append(_flag(merchant, run, min_run, window_minutes))
    return flags


def _runs(members, window: timedelta) -> list[list[RedemptionRecord]]:
    runs = []
    current = []
    previous = None
    for sequence, record in members:
        if previous and _continues(previous, sequence, record, window):
            current.append(record)
        else:
            current = [record]
            runs.append(current)
        previous = (sequence, record)
    return runs


def _continues(previous, sequence, record, window) -> bool:
    previous_sequence, previous_record = previous
    gap = abs(record.redeemed_at - previous_record.redeemed_at)
    return sequence == previous_sequence + 1 and gap <= window


def _flag(merchant, run, min_run, window_minutes) -> Flag:
    times = sorted(record.redeemed_at for record in run)
    figures = {
        "merchant_id": merchant,
        "first_serial": run[0].serial,
        "last_serial": run[-1].serial,
        "count": len(run),
        "min_run": min_run,
        "window_minutes": window_minutes,
    }
    explanation = (
        f"券号 {run[0].serial} 至 {run[-1].serial} 共 {len(run)} 张连号消费券在 "
        f"{minute_text(times[0])} 至 {minute_text(times[-1])} 间"
        f"于商户 {merchant} 核销；"
        f"阈值为连续 {min_run} 张、相邻两张间隔不超过 {window_minutes} 分钟。"
    )
    return Flag(CONSECUTIVE_SERIALS, ids_of(run), explanation, figures)
