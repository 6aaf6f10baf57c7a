"""Many vouchers of one village or one institution redeemed together at one merchant."""

from collections import defaultdict
from datetime import timedelta

from services.redemption.domain.cashout.clusters import time_clusters
from services.redemption.domain.cashout.records import (
    INSTITUTION_BASKET,
    VILLAGE_BURST,
    Flag,
    RedemptionRecord,
    ids_of,
    minute_text,
)


def village_bursts(
    records: list[RedemptionRecord], *, min_count: int, window_minutes: int
) -> list[Flag]:
    """Flag many vouchers of one village redeemed at one merchant within minutes.

    A flag needs ``min_count`` or more redemptions in a span of
    ``window_minutes``. Records without a village code are skipped.
    """
    groups = defaultdict(list)
    for record in records:
        if record.village_code:
            groups[(record.village_code, record.merchant_id)].append(record)
    window = timedelta(minutes=window_minutes)
    flags = []
    for (village, merchant), members in sorted(groups.items()):
        for cluster in time_clusters(members, window, min_count):
            flag = _village_flag(village, merchant, cluster, min_count, window_minutes)
            flags.append(flag)
    return flags


def institution_baskets(
    records: list[RedemptionRecord], *, min_count: int, window_minutes: int
) -> list[Flag]:
    """Flag an institution's vouchers redeemed at one merchant as one basket.

    A flag needs ``min_count`` or more redemptions of one institution in one till
    session, or within a span of ``window_minutes``. A time cluster already
    covered by a session flag is not flagged again.
    """
    groups = defaultdict(list)
    for record in records:
        if record.institution_id is not None:
            groups[(record.institution_id, record.merchant_id)].append(record)
    window = timedelta(minutes=window_minutes)
    flags = []
    for (institution, merchant), members in sorted(groups.items()):
        clusters = _sessions(members, min_count)
        clusters += time_clusters(members, window, min_count)
        flagged: list[set[str]] = []
        for cluster in clusters:
            ids = set(ids_of(cluster))
            if any(ids <= earlier for earlier in flagged):
                continue
            flagged.append(ids)
            flags.append(_institution_flag(institution, merchant, cluster, min_count))
    return flags


def _sessions(members: list[RedemptionRecord], min_count: int) -> list[list]:
    sessions = defaultdict(list)
    for record in members:
        if record.till_session is not None:
            sessions[record.till_session].append(record)
    return [
        sorted(group, key=lambda record: record.redeemed_at)
        for _, group in sorted(sessions.items())
        if len(group) >= min_count
    ]


def _village_flag(village, merchant, cluster, min_count, window_minutes) -> Flag:
    first, last = cluster[0].redeemed_at, cluster[-1].redeemed_at
    figures = {
        "village_code": village,
        "merchant_id": merchant,
        "count": len(cluster),
        "first_at": first.isoformat(),
        "last_at": last.isoformat(),
        "min_count": min_count,
        "window_minutes": window_minutes,
    }
    explanation = (
        f"村（社区）{village} 的 {len(cluster)} 张消费券在 {minute_text(first)} 至 "
        f"{minute_text(last)} 间于商户 {merchant} 集中核销；"
        f"阈值为 {window_minutes} 分钟内 {min_count} 张。"
    )
    return Flag(VILLAGE_BURST, ids_of(cluster), explanation, figures)


def _institution_flag(institution, merchant, cluster, min_count) -> Flag:
    first, last = cluster[0].redeemed_at, cluster[-1].redeemed_at
    sessions = sorted({record.till_session or "" for record in cluster} - {""})
    figures = {
        "institution_id": institution,
        "merchant_id": merchant,
        "count": len(cluster),
        "total_fen": sum(record.total_fen for record in cluster),
        "till_sessions": sessions,
        "first_at": first.isoformat(),
        "last_at": last.isoformat(),
        "min_count": min_count,
    }
    session_text = f"（收银班次 {'、'.join(sessions)}）" if sessions else ""
    explanation = (
        f"供养机构 {institution} 的 {len(cluster)} 张消费券在 {minute_text(first)} 至 "
        f"{minute_text(last)} 间于商户 {merchant}{session_text}合并核销，"
        f"阈值为 {min_count} 张。"
    )
    return Flag(INSTITUTION_BASKET, ids_of(cluster), explanation, figures)
