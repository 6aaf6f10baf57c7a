"""The Monday weekly report and the early-March joint report, as JSON and documents.

The documents come from ``services.reporting.documents``; without that module the
service offers the JSON figures only.
"""

import base64
import logging
from datetime import date

from aixin.errors import NotFound
from services.reporting import figures, timeline
from services.reporting.models import vouchers
from services.reporting.timeline import report_week

log = logging.getLogger(__name__)

try:
    from services.reporting import documents
except ImportError:  # pragma: no cover - the renderers are an optional module
    documents = None

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
WEEK_KEYS = ("handed_out_week", "handed_out_total", "late_total", "redeemed_week",
             "redeemed_total", "redeemed_amount_week_fen", "redeemed_amount_total_fen")


def campaign_name(campaign: dict) -> str:
    return campaign["config"].get("name") or campaign["campaign_id"]


def weekly_report(session, campaign: dict, monday: date,
                  township_code: str | None = None) -> dict:
    """Build the weekly report of the district, or of one township by village."""
    campaign_id = campaign["campaign_id"]
    week_start, week_end = report_week(monday)
    townships = figures.township_rows(session, campaign_id, township_code)
    if township_code:
        units = [(row["village"], row["village"] or "（未填村）", row["eligible"])
                 for row in figures.village_rows(session, campaign_id, township_code)]
        group_by = vouchers.c.village
        scope_name = townships[0]["name"] if townships else township_code
    else:
        units = [(row["code"], row["name"], row["eligible"]) for row in townships]
        group_by = vouchers.c.township_code
        scope_name = campaign["config"].get("district_name", "全区")
    counted = timeline.week_figures(session, campaign_id, week_start, week_end,
                                    group_by, township_code)
    # Open flags are those open now, not at the week's end: they list what is to do.
    flagged = figures.open_flag_texts(session, campaign_id, township_code,
                                      by_village=bool(township_code))
    rows = []
    for key, name, eligible in units:
        week = counted.get(key) or dict.fromkeys(WEEK_KEYS, 0)
        rows.append(_with_week_rates({
            "unit": key, "name": name, "eligible": eligible, **week,
            "open_flags": sorted(flagged.get(key, {}).values())}))
    every_flag = sorted(figures.distinct_flags(flagged).values())
    totals = {name: sum(row[name] for row in rows) for name in ("eligible", *WEEK_KEYS)}
    return {
        "campaign_id": campaign_id,
        "campaign_name": campaign_name(campaign),
        "scope": township_code or "district",
        "scope_name": scope_name,
        "unit_label": "村（社区）" if township_code else "镇（街道）",
        "monday": monday.isoformat(),
        "week_start": week_start.isoformat(),
        "week_end": week_end.isoformat(),
        "rows": rows,
        "totals": _with_week_rates({**totals, "open_flags": every_flag}),
        # A flag that names vouchers of two units is listed in both rows, once here.
        "open_flags_count": len(every_flag),
    }


def _with_week_rates(row: dict) -> dict:
    row["handout_rate"] = figures.rate(row["handed_out_total"], row["eligible"])
    row["redemption_rate"] = figures.rate(row["redeemed_total"],
                                          row["handed_out_total"])
    return row


def joint_report(session, campaign: dict, as_of: date,
                 township_code: str | None = None) -> dict:
    """Build the per-township table of the joint report, with totals.

    ``refund_fen`` is the cleared figure once the township is cleared, and until
    then the allocation minus the approved redemptions; negative means a top-up.
    """
    rows = []
    for row in figures.township_rows(session, campaign["campaign_id"], township_code):
        refund = row["refund_fen"]
        if refund is None:
            refund = row["allocated_fen"] - row["reimbursed_fen"]
        rows.append({key: row[key] for key in (
            "code", "name", "eligible", "handed_out", "redeemed_count", "redeemed_fen",
            "unredeemed", "allocated_fen", "reimbursed_fen", "cleared", "open_flags")}
            | {"refund_fen": refund})
    totals = {key: sum(row[key] for row in rows) for key in (
        "eligible", "handed_out", "redeemed_count", "redeemed_fen", "unredeemed",
        "allocated_fen", "reimbursed_fen", "refund_fen")}
    totals["open_flags"] = len(figures.distinct_flags(figures.open_flag_texts(
        session, campaign["campaign_id"], township_code)))
    return {"campaign_id": campaign["campaign_id"],
            "campaign_name": campaign_name(campaign),
            "district_name": campaign["config"].get("district_name", ""),
            "as_of": as_of.isoformat(), "rows": rows, "totals": totals}


def _document(filename: str, content_type: str, content: bytes) -> dict:
    return {"filename": filename, "content_type": content_type,
            "content_b64": base64.b64encode(content).decode("ascii")}


def _require_documents():
    if documents is None:
        raise NotFound("documents_unavailable",
                       "本系统尚未安装报表文件生成模块：请改用 JSON 格式获取报表数据。")


def weekly_document(report: dict, generated_at) -> dict:
    _require_documents()
    rows = [documents.WeeklyRow(
        unit_name=row["name"], eligible=row["eligible"],
        handed_out_week=row["handed_out_week"],
        handed_out_total=row["handed_out_total"],
        late_total=row["late_total"], redeemed_week=row["redeemed_week"],
        redeemed_total=row["redeemed_total"],
        redeemed_amount_week_fen=row["redeemed_amount_week_fen"],
        redeemed_amount_total_fen=row["redeemed_amount_total_fen"],
        open_flags=tuple(row["open_flags"])) for row in report["rows"]]
    content = documents.render_weekly_report(documents.WeeklyReport(
        campaign_name=report["campaign_name"], scope_name=report["scope_name"],
        unit_label=report["unit_label"],
        week_start=date.fromisoformat(report["week_start"]),
        week_end=date.fromisoformat(report["week_end"]),
        generated_at=generated_at, rows=rows,
        open_flags_total=report["open_flags_count"]))
    filename = f"周报_{report['scope_name']}_{report['week_end']}.xlsx"
    return _document(filename, XLSX, content)


def joint_document(report: dict, prepared_on: date, file_format: str) -> dict:
    _require_documents()
    model = documents.JointReport(
        campaign_name=report["campaign_name"], district_name=report["district_name"],
        as_of=date.fromisoformat(report["as_of"]), prepared_on=prepared_on,
        rows=[documents.JointRow(
            township_name=row["name"], eligible=row["eligible"],
            handed_out=row["handed_out"], redeemed_count=row["redeemed_count"],
            redeemed_amount_fen=row["redeemed_fen"], allocated_fen=row["allocated_fen"],
            reimbursed_fen=row["reimbursed_fen"], open_flags=row["open_flags"])
            for row in report["rows"]],
        open_flags_total=report["totals"]["open_flags"])
    stem = f"联合报告_{report['district_name']}_{report['as_of']}"
    if file_format == "pdf":
        return _document(f"{stem}.pdf", PDF, documents.render_joint_report_pdf(model))
    return _document(f"{stem}.xlsx", XLSX, documents.render_joint_report_xlsx(model))
