"""Clusters of redemptions that fall close together in time."""

from datetime import timedelta

from services.redemption.domain.cashout.records import RedemptionRecord, by_time


def time_clusters(
    records: list[RedemptionRecord], window: timedelta, min_count: int
) -> list[list[RedemptionRecord]]:
    """Return the groups of at least ``min_count`` redemptions within ``window``.

    Every redemption that lies in some window of ``window`` length holding
    ``min_count`` or more redemptions is returned, and overlapping windows merge
    into one cluster, so a cluster may span longer than ``window``.
    """
    ordered = sorted(records, key=by_time)
    intervals: list[tuple[int, int]] = []
    start = 0
    for end, record in enumerate(ordered):
        while record.redeemed_at - ordered[start].redeemed_at > window:
            start += 1
        if end - start + 1 < min_count:
            continue
        if intervals and start <= intervals[-1][1]:
            intervals[-1] = (intervals[-1][0], end)
        else:
            intervals.append((start, end))
    return [ordered[first : last + 1] for first, last in intervals]
