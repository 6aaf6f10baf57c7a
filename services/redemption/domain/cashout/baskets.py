"""Suspicious baskets: the same basket repeated, or one line worth the face value."""

from collections import defaultdict

from aixin.money import format_yuan
from services.redemption.domain.cashout.records import (
    IDENTICAL_BASKETS,
    SINGLE_LINE_FACE_VALUE,
    Flag,
    RedemptionRecord,
    by_time,
    ids_of,
)


def basket_signature(record: RedemptionRecord) -> tuple:
    """Return the lines of a basket in a canonical order, for comparing baskets."""
    return tuple(
        sorted(
            (
                line.name,
                line.category,
                line.quantity,
                line.unit_price_fen,
                line.amount_fen,
            )
            for line in record.lines
        )
    )


def identical_baskets(
    records: list[RedemptionRecord], *, min_repeats: int, min_lines: int
) -> list[Flag]:
    """Flag a basket that recurs ``min_repeats`` or more times at one merchant.

    Baskets of fewer than ``min_lines`` lines are ignored, because one bag of
    rice bought by many people is ordinary. Quantities compare by value, so 2 and
    2.0 are the same.
    """
    groups = defaultdict(list)
    for record in records:
        if len(record.lines) >= min_lines:
            groups[(record.merchant_id, basket_signature(record))].append(record)
    flags = []
    for (merchant, signature), members in groups.items():
        if len(members) >= min_repeats:
            flags.append(_identical_flag(merchant, signature, members, min_repeats))
    return sorted(flags, key=lambda flag: flag.redemption_ids)


def single_line_face_value(
    records: list[RedemptionRecord], *, face_value_fen: int
) -> list[Flag]:
    """Flag each redemption whose statement is one line worth exactly the face value."""
    flags = []
    for record in records:
        if len(record.lines) != 1 or record.lines[0].amount_fen != face_value_fen:
            continue
        line = record.lines[0]
        explanation = (
            f"核销 {record.redemption_id} 的流水清单只有一行“{line.name}”，"
            f"金额 {format_yuan(line.amount_fen)} 元恰好等于面值。"
        )
        figures = {
            "merchant_id": record.merchant_id,
            "item": line.name,
            "amount_fen": line.amount_fen,
            "face_value_fen": face_value_fen,
        }
        flags.append(
            Flag(SINGLE_LINE_FACE_VALUE, (record.redemption_id,), explanation, figures)
        )
    return flags


def _identical_flag(merchant, signature, members, min_repeats) -> Flag:
    ordered = sorted(members, key=by_time)
    basket_total = sum(line[4] for line in signature)
    figures = {
        "merchant_id": merchant,
        "count": len(ordered),
        "lines": len(signature),
        "basket_total_fen": basket_total,
        "min_repeats": min_repeats,
    }
    explanation = (
        f"商户 {merchant} 有 {len(ordered)} 笔核销的商品清单完全相同"
        f"（{len(signature)} 行，合计 {format_yuan(basket_total)} 元）；"
        f"阈值为 {min_repeats} 笔。"
    )
    return Flag(IDENTICAL_BASKETS, ids_of(ordered), explanation, figures)
