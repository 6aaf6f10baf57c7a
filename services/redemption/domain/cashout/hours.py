"""Redemptions outside a store's opening hours."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time

from aixin.clock import as_local
from services.redemption.domain.cashout.records import (
    OUTSIDE_OPENING_HOURS,
    Flag,
    RedemptionRecord,
    minute_text,
)


@dataclass(frozen=True)
class OpeningHours:
    """Daily hours of a store in local time, the same on every day of the week.

    ``closes`` before ``opens`` means the store closes after midnight, and equal
    ``opens`` and ``closes`` mean open all day.
    """

    opens: time
    closes: time

    def contains(self, moment: time) -> bool:
        """Tell whether the store is open at the local time of day ``moment``."""
        if self.opens == self.closes:
            return True
        if self.opens < self.closes:
            return self.opens <= moment < self.closes
        return moment >= self.opens or moment < self.closes

    def text(self) -> str:
        return f"{self.opens:%H:%M}-{self.closes:%H:%M}"


def outside_opening_hours(
    records: list[RedemptionRecord], *, opening_hours: Mapping[str, OpeningHours]
) -> list[Flag]:
    """Flag each redemption made while its store was closed.

    ``opening_hours`` maps store ids to their hours. A store without an entry is
    not checked, so the caller should pass every registered store.
    """
    flags = []
    for record in records:
        hours = opening_hours.get(record.store_id)
        local = as_local(record.redeemed_at)
        if hours is None or hours.contains(local.time()):
            continue
        figures = {
            "store_id": record.store_id,
            "redeemed_at": local.isoformat(),
            "opening_hours": hours.text(),
        }
        explanation = (
            f"核销 {record.redemption_id} 发生在 {minute_text(local)}，"
            f"门店 {record.store_id} 的营业时间为 {hours.text()}。"
        )
        flags.append(
            Flag(OUTSIDE_OPENING_HOURS, (record.redemption_id,), explanation, figures)
        )
    return flags
