"""Vouchers of persons removed from the roster that were still redeemed."""

from collections.abc import Mapping
from datetime import datetime

from services.redemption.domain.cashout.records import (
    REMOVED_FROM_ROSTER,
    Flag,
    RedemptionRecord,
    minute_text,
)


def removed_from_roster(
    records: list[RedemptionRecord], *, removed_at: Mapping[str, datetime]
) -> list[Flag]:
    """Flag each redemption of a voucher whose beneficiary had left the roster.

    ``removed_at`` maps beneficiary ids to the moment the roster amendment took
    effect. A redemption before that moment is ordinary and not flagged.
    """
    flags = []
    for record in records:
        removal = removed_at.get(record.beneficiary_id)
        if removal is None or record.redeemed_at < removal:
            continue
        figures = {
            "beneficiary_id": record.beneficiary_id,
            "removed_at": removal.isoformat(),
            "redeemed_at": record.redeemed_at.isoformat(),
        }
        explanation = (
            f"核销 {record.redemption_id}（券号 {record.serial}）发生在 "
            f"{minute_text(record.redeemed_at)}，而该券的发放对象 "
            f"{record.beneficiary_id} 已于 {minute_text(removal)} 移出名单。"
        )
        flags.append(
            Flag(REMOVED_FROM_ROSTER, (record.redemption_id,), explanation, figures)
        )
    return flags
