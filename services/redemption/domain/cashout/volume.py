"""A merchant's voucher volume out of line with its number of stores."""

from collections import defaultdict
from collections.abc import Mapping

from services.redemption.domain.cashout.records import (
    MERCHANT_VOLUME,
    Flag,
    RedemptionRecord,
    ids_of,
)


def merchant_volume(
    records: list[RedemptionRecord],
    *,
    store_counts: Mapping[str, int],
    max_per_store: int,
) -> list[Flag]:
    """Flag a merchant whose redeemed vouchers exceed ``max_per_store`` per store.

    ``store_counts`` maps merchant ids to their registered stores. A merchant
    without registered stores is flagged for any redemption.
    """
    by_merchant = defaultdict(list)
    for record in records:
        by_merchant[record.merchant_id].append(record)
    flags = []
    for merchant, members in sorted(by_merchant.items()):
        stores = store_counts.get(merchant, 0)
        vouchers = len({record.serial for record in members})
        if vouchers > max_per_store * stores:
            flags.append(_flag(merchant, members, vouchers, stores, max_per_store))
    return flags


def _flag(merchant, members, vouchers, stores, max_per_store) -> Flag:
    figures = {
        "merchant_id": merchant,
        "vouchers": vouchers,
        "stores": stores,
        "max_per_store": max_per_store,
    }
    if stores > 0:
        store_text = f"登记门店 {stores} 家，平均每店 {vouchers / stores:.1f} 张"
    else:
        store_text = "没有登记门店"
    explanation = (
        f"商户 {merchant} 核销消费券 {vouchers} 张，{store_text}，"
        f"超过每店 {max_per_store} 张的阈值。"
    )
    return Flag(MERCHANT_VOLUME, ids_of(members), explanation, figures)
