"""Cash-out flags: rules that mark suspicious redemptions for the Commerce audit.

Each rule is a pure function over a list of RedemptionRecord with its thresholds
as keyword parameters, and returns Flag objects that explain themselves in Chinese
with the figures behind them.
"""

from services.redemption.domain.cashout.baskets import (
    identical_baskets,
    single_line_face_value,
)
from services.redemption.domain.cashout.bursts import (
    institution_baskets,
    village_bursts,
)
from services.redemption.domain.cashout.hours import (
    OpeningHours,
    outside_opening_hours,
)
from services.redemption.domain.cashout.records import (
    RULE_LABELS,
    Flag,
    RedemptionRecord,
)
from services.redemption.domain.cashout.roster import removed_from_roster
from services.redemption.domain.cashout.serials import consecutive_serials
from services.redemption.domain.cashout.volume import merchant_volume

__all__ = [
    "RULE_LABELS",
    "Flag",
    "OpeningHours",
    "RedemptionRecord",
    "consecutive_serials",
    "identical_baskets",
    "institution_baskets",
    "merchant_volume",
    "outside_opening_hours",
    "removed_from_roster",
    "single_line_face_value",
    "village_bursts",
]
