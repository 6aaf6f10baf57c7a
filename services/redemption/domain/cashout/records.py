"""What the cash-out rules read and what they return."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from aixin.clock import as_local
from services.redemption.domain.statement import StatementLine

VILLAGE_BURST = "village_burst"
CONSECUTIVE_SERIALS = "consecutive_serials"
IDENTICAL_BASKETS = "identical_baskets"
SINGLE_LINE_FACE_VALUE = "single_line_face_value"
INSTITUTION_BASKET = "institution_basket"
OUTSIDE_OPENING_HOURS = "outside_opening_hours"
REMOVED_FROM_ROSTER = "removed_from_roster"
MERCHANT_VOLUME = "merchant_volume"

RULE_LABELS = {
    VILLAGE_BURST: "同村消费券短时间内集中核销",
    CONSECUTIVE_SERIALS: "连号消费券集中核销",
    IDENTICAL_BASKETS: "商品清单重复出现",
    SINGLE_LINE_FACE_VALUE: "单行商品金额恰为面值",
    INSTITUTION_BASKET: "供养机构消费券合并核销",
    OUTSIDE_OPENING_HOURS: "营业时间外核销",
    REMOVED_FROM_ROSTER: "已移出名单人员的消费券被核销",
    MERCHANT_VOLUME: "核销量与商户规模不符",
}


@dataclass(frozen=True)
class RedemptionRecord:
    """One recorded redemption; ``institution_id`` is None for dispersed support."""

    redemption_id: str
    serial: str
    merchant_id: str
    store_id: str
    redeemed_at: datetime
    total_fen: int
    lines: tuple[StatementLine, ...] = ()
    village_code: str = ""
    institution_id: str | None = None
    beneficiary_id: str = ""
    till_session: str | None = None


@dataclass(frozen=True)
class Flag:
    """A suspicion for the audit: the rule, the redemptions and the figures."""

    rule: str
    redemption_ids: tuple[str, ...]
    explanation: str
    figures: Mapping = field(default_factory=dict)


def ids_of(records) -> tuple[str, ...]:
    """Return the redemption ids of ``records`` in their order."""
    return tuple(record.redemption_id for record in records)


def by_time(record: RedemptionRecord) -> tuple:
    """Sort key: redemption time, then id, so equal times keep a stable order."""
    return (record.redeemed_at, record.redemption_id)


def minute_text(moment: datetime) -> str:
    """Format a moment as local ``YYYY-MM-DD HH:MM`` for explanations."""
    return as_local(moment).strftime("%Y-%m-%d %H:%M")
