"""summary.json and the per-township table printed at the end of a run."""

import json
from pathlib import Path

from aixin.money import format_yuan

COLUMNS = [
    ("code", "区划代码", 12), ("name", "乡镇（街道）", 8), ("eligible", "应发", 6),
    ("handed_out", "已发放", 6), ("voided", "作废", 4), ("redeemed_count", "核销张数", 6),
    ("redeemed_fen", "核销金额", 12), ("allocated_fen", "拨付金额", 12),
    ("refund_fen", "退回(-补拨)", 12),
]


def write_summary(path: Path, summary: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True))


def _cell(key: str, row: dict) -> str:
    value = row.get(key, "")
    if key.endswith("_fen") and isinstance(value, int):
        return format_yuan(value)
    return str(value)


def _pad(text: str, width: int) -> str:
    # CJK characters take two columns in a terminal.
    shown = sum(2 if ord(char) > 0x2E80 else 1 for char in text)
    return text + " " * max(0, width - shown)


def print_table(summary: dict) -> None:
    widths = [max(width, len(header) * 2) for _, header, width in COLUMNS]
    print("  ".join(_pad(header, width) for (_, header, _), width
                    in zip(COLUMNS, widths)))
    for code, township in sorted(summary["townships"].items()):
        row = {"code": code, **township}
        print("  ".join(_pad(_cell(key, row), width) for (key, _, _), width
                        in zip(COLUMNS, widths)))
    ledger = summary["ledger"]
    print(f"\n余额合计 {format_yuan(ledger['balance_sum_fen'])} 元；省级净支付 "
          f"{format_yuan(ledger['province_net_paid_fen'])} 元；核销合计 "
          f"{format_yuan(summary['totals']['redeemed_fen'])} 元")
    cashout = summary.get("cashout", {})
    if cashout:
        flagged = "，".join(f"{rule} {count}"
                           for rule, count in cashout["flags_by_rule"].items())
        print(f"套现核查标记（按规则）：{flagged}")
        for rule, reasons in sorted(cashout["not_planted"].items()):
            print(f"  未能布设 {rule}：{'；'.join(reasons)}")
    rejected = sorted(summary["rejected_operations"].items())
    print("被拒绝的操作：" + "，".join(f"{code} {count}" for code, count in rejected))
    verdict = "全部成立" if summary["invariants"]["all_hold"] else "未全部成立"
    print(f"不变量检查：{verdict}")
    for failure in summary["invariants"]["failures"]:
        print(f"  - {failure}")
