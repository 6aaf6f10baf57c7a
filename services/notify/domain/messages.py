"""Chinese reminder texts, each carrying the figures current when it is sent.

``compose`` turns one occurrence and the figures fetched from reporting into one
message per recipient. An audience with nothing to do (every voucher handed out,
every voucher redeemed) gets no message.
"""

from dataclasses import dataclass
from datetime import date

from aixin.money import format_yuan

BUREAU_NAMES = {"commerce": "区商务局", "finance": "区财政局", "civil_affairs": "区民政局"}
JOINT_AUDIT_BUREAUS = ("commerce", "finance", "civil_affairs")
# The bureaus that the townships report to each week get the district's report.
WEEKLY_REPORT_BUREAUS = ("commerce", "finance")


@dataclass(frozen=True)
class Message:
    recipient: str
    township_code: str | None
    subject: str
    body: str


def bureau(role: str) -> str:
    return f"bureau:{role}"


def township(code: str) -> str:
    return f"township:{code}"


def village(code: str, name: str) -> str:
    return f"village:{code}:{name}"


def _days_left(deadline: date, today: date) -> int:
    return (deadline - today).days


def _percent(ratio) -> str:
    return "—" if ratio is None else f"{ratio * 100:.1f}%"


def funds_due(config, day, summary) -> list[Message]:
    totals, district = summary["totals"], summary["district"]
    expected = district["funds_expected_fen"] or totals["eligible"] * config[
        "face_value_fen"]
    body = (f"{config['name']}：省级资金应于 {config['funds_due']} 前拨付到区财政，"
            f"距截止还有 {_days_left(config['funds_due'], day)} 天。"
            f"目前已到账 {format_yuan(district['funds_received_fen'])} 元，"
            f"应到账 {format_yuan(expected)} 元（{totals['eligible']} 人）。请跟进资金到位情况。")
    return [Message(bureau("finance"), None, "【资金到位提醒】", body)]


def handout(config, day, summary) -> list[Message]:
    messages = []
    for row in summary["townships"]:
        remaining = row["eligible"] - row["handed_out"]
        if remaining <= 0:
            continue
        body = (f"{row['name']}：距春节（{config['spring_festival']}）还有 "
                f"{_days_left(config['spring_festival'], day)} 天，尚有 {remaining} 张"
                f"消费券未发放（应发 {row['eligible']} 人，已发放 {row['handed_out']} 张）。"
                "请按公示名单应发尽发。")
        messages.append(Message(township(row["code"]), row["code"], "【发放提醒】", body))
    return messages


def _open_flags_text(count: int, request: str = "") -> str:
    return f"尚有 {count} 条套现可疑标记未关闭{request}。" if count else ""


def weekly_report(config, day, report) -> list[Message]:
    """Each township's figures, and the district's for the bureaus it reports to.

    An email carries the weekly report XLSX of its recipient's scope as well (see
    ``services/notify/attachments.py``); every channel carries its download path.
    """
    download = (f"/v1/campaigns/{config['campaign_id']}/reports/weekly.xlsx"
                f"?monday={day.isoformat()}")
    messages = []
    for row in report["rows"]:
        flags = _open_flags_text(len(row.get("open_flags") or ()), "，请配合区商务局核查")
        body = (f"{row['name']}：今天是周报报送日，请向区商务局、区财政局报送上周"
                f"（{report['week_start']} 至 {report['week_end']}）发放核销情况。"
                f"上周发放 {row['handed_out_week']} 张，核销 {row['redeemed_week']} 张、"
                f"{format_yuan(row['redeemed_amount_week_fen'])} 元；累计发放 "
                f"{row['handed_out_total']} 张（发放率 {_percent(row['handout_rate'])}），"
                f"累计核销 {row['redeemed_total']} 张、"
                f"{format_yuan(row['redeemed_amount_total_fen'])} 元。"
                f"{flags}"
                f"周报表格下载：{download}&township={row['unit']}")
        messages.append(Message(township(row["unit"]), row["unit"], "【周报提醒】", body))
    totals = report.get("totals")
    if totals is not None:
        body = (f"{config['name']}：上周（{report['week_start']} 至 {report['week_end']}）"
                f"全区发放 {totals['handed_out_week']} 张，核销 {totals['redeemed_week']} "
                f"张、{format_yuan(totals['redeemed_amount_week_fen'])} 元；累计发放 "
                f"{totals['handed_out_total']} 张（发放率 "
                f"{_percent(totals['handout_rate'])}），累计核销 "
                f"{totals['redeemed_total']} 张、"
                f"{format_yuan(totals['redeemed_amount_total_fen'])} 元（核销率 "
                f"{_percent(totals['redemption_rate'])}）。"
                f"{_open_flags_text(report.get('open_flags_count') or 0)}"
                f"全区周报表格下载：{download}")
        messages += [Message(bureau(role), None, "【全区周报】", body)
                     for role in WEEKLY_REPORT_BUREAUS]
    return messages


def redemption_deadline(config, day, villages_by_township) -> list[Message]:
    deadline = config["redemption_deadline"]
    messages = []
    for code, (name, villages) in sorted(villages_by_township.items()):
        for row in villages:
            if row["unredeemed"] <= 0 or not row["village"]:
                continue
            body = (f"{name}{row['village']}：消费券须在 {deadline} 前使用，还有 "
                    f"{_days_left(deadline, day)} 天。本村（社区）尚有 {row['unredeemed']} "
                    f"名发放对象未使用消费券（已发放 {row['handed_out']} 张，已核销 "
                    f"{row['redeemed_count']} 张），请逐一提醒其到指定商超使用。")
            messages.append(Message(village(code, row["village"]), code, "【核销提醒】",
                                    body))
    return messages


def joint_audit(config, day, summary) -> list[Message]:
    totals = summary["totals"]
    body = (f"{config['name']}：请于 {config['joint_audit_date']} 由区商务局、区财政局、"
            f"区民政局对各乡镇（街道）发放核销情况开展联合审核并联合行文。目前全区应发 "
            f"{totals['eligible']} 人，已发放 {totals['handed_out']} 张，已核销 "
            f"{totals['redeemed_count']} 张、{format_yuan(totals['redeemed_fen'])} 元，"
            f"未核销 {totals['unredeemed']} 张；已审核通过 "
            f"{format_yuan(totals['approved_fen'])} 元。")
    return [Message(bureau(role), None, "【联合审核提醒】", body)
            for role in JOINT_AUDIT_BUREAUS]


def clearing(config, day, summary) -> list[Message]:
    totals = summary["totals"]
    cleared = sum(1 for row in summary["townships"] if row["cleared"])
    body = (f"{config['name']}：须在 {config['clearing_deadline']} 前完成与省、市财政的"
            f"清算（多退少补），还有 {_days_left(config['clearing_deadline'], day)} 天。"
            f"目前已拨付乡镇 {format_yuan(totals['allocated_fen'])} 元，审核通过应结算 "
            f"{format_yuan(totals['reimbursed_fen'])} 元，已清算乡镇 {cleared}/"
            f"{len(summary['townships'])} 个。")
    return [Message(bureau("finance"), None, "【清算提醒】", body)]


COMPOSERS = {"funds_due": funds_due, "handout": handout, "weekly_report": weekly_report,
             "redemption_deadline": redemption_deadline, "joint_audit": joint_audit,
             "clearing": clearing}


def compose(kind: str, config: dict, day: date, figures) -> list[Message]:
    """Return the messages of one occurrence of ``kind`` on ``day``."""
    return COMPOSERS[kind](config, day, figures)
