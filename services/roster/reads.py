"""Reading the roster: import reports, township lists, public notices, amendments."""

import base64
from datetime import timedelta

from sqlalchemy import func, select

from aixin.errors import Forbidden, NotFound
from services.roster import current
from services.roster import snapshots as snapshot_store
from services.roster.documents import (
    ImportSummary,
    NoticeEntry,
    PublicNotice,
    RejectedRow,
    render_import_report,
    render_notice_pdf,
    render_notice_xlsx,
)
from services.roster.models import amendments, rejections

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
# The notice lists one category per person: extreme poverty first, as it decides
# who receives the voucher.
_CATEGORY_ORDER = ("tekun", "urban_dibao", "rural_dibao")


def check_township(actor: dict, township_code: str) -> None:
    """Hide another township's data from a township caller, as if it did not exist."""
    if actor.get("role") == "township" and actor.get("scope") != township_code:
        raise NotFound("not_found", "未找到该对象，或您无权访问。")


def require_civil_affairs(actor: dict) -> None:
    if actor.get("role") != "civil_affairs":
        raise Forbidden("forbidden", "只有民政局可以查看完整身份证号码。")


def document(filename: str, content_type: str, content: bytes) -> dict:
    return {"filename": filename, "content_type": content_type,
            "content_b64": base64.b64encode(content).decode("ascii")}


def import_report(session, snapshot, offset: int = 0, limit: int = 1000) -> dict:
    total = session.execute(select(func.count()).select_from(rejections).where(
        rejections.c.snapshot_id == snapshot.snapshot_id)).scalar()
    rows = session.execute(select(rejections)
                           .where(rejections.c.snapshot_id == snapshot.snapshot_id)
                           .order_by(rejections.c.position)
                           .offset(offset).limit(limit)).all()
    return {**snapshot_store.snapshot_summary(snapshot),
            "rejections_total": total,
            "rejections": [_rejection(row) for row in rows]}


def _rejection(row) -> dict:
    return {"file": row.file, "sheet": row.sheet, "row": row.row_number,
            "column": row.column, "value": row.value, "reason": row.reason,
            "message": row.message}


def import_report_xlsx(session, snapshot, campaign: dict) -> dict:
    report = snapshot.report
    summary = ImportSummary(
        snapshot_month=campaign["snapshot_month"], file_names=report["files"],
        imported_at=snapshot_store.aware(snapshot.imported_at),
        rows_read=report["rows_read"], accepted_rows=report["accepted_rows"],
        rejected_rows=report["rejected_rows"],
        merged_duplicates=report["merged_duplicates"],
        beneficiaries=report["beneficiaries"], reason_counts=report["rejected"])
    rows = session.execute(select(rejections)
                           .where(rejections.c.snapshot_id == snapshot.snapshot_id)
                           .order_by(rejections.c.position)).all()
    rejected = (RejectedRow(
        file_name=f"{row.file}（{row.sheet}）" if row.sheet else row.file,
        row_number=row.row_number, column=row.column, value=row.value,
        reason_code=row.reason, message=row.message) for row in rows)
    content = render_import_report(summary, rejected)
    filename = f"花名册导入报告-{campaign['campaign_id']}-{snapshot.snapshot_id[:8]}.xlsx"
    return document(filename, XLSX, content)


def township_list(session, snapshot, township_code: str, village=None,
                  original=False) -> dict:
    records = current.township_records(session, snapshot.snapshot_id, township_code,
                                       village, original)
    return {"snapshot_id": snapshot.snapshot_id, "status": snapshot.status,
            "township_code": township_code, "village": village,
            "original": original, "count": len(records), "beneficiaries": records}


def notice_document(session, snapshot, campaign: dict, township_code: str,
                    village: str | None, kind: str, notice_days: int) -> dict:
    records = current.township_records(session, snapshot.snapshot_id, township_code,
                                       village)
    if not records:
        raise NotFound("notice_empty",
                       f"乡镇 {township_code}{'的' + village if village else ''}"
                       "没有发放对象，无法生成公示名单：请核对乡镇代码和村（社区）名称。",
                       township_code=township_code, village=village)
    published_on = snapshot_store.aware(snapshot.published_at).date()
    entries = [NoticeEntry(name=record["name"], masked_id_number=record["masked_id"],
                           village=record["village"] or "",
                           category=_primary_category(record["categories"]),
                           amount_fen=campaign["face_value_fen"])
               for record in records]
    notice = PublicNotice(
        campaign_name=campaign["name"], township_name=records[0]["township_name"],
        entries=entries, notice_from=published_on,
        notice_until=published_on + timedelta(days=notice_days),
        published_on=published_on, village=village)
    place = records[0]["township_name"] + (f"-{village}" if village else "")
    if kind == "pdf":
        return document(f"公示名单-{place}.pdf", PDF, render_notice_pdf(notice))
    return document(f"公示名单-{place}.xlsx", XLSX, render_notice_xlsx(notice))


def _primary_category(categories: list) -> str:
    return next(category for category in _CATEGORY_ORDER if category in categories)


def amendment_list(session, snapshot) -> list:
    rows = session.execute(select(amendments)
                           .where(amendments.c.snapshot_id == snapshot.snapshot_id)
                           .order_by(amendments.c.sequence)).all()
    return [{"amendment_id": row.amendment_id, "sequence": row.sequence,
             "kind": row.kind, "reason": row.reason, "note": row.note,
             "beneficiary_id": row.beneficiary_id, "changes": row.changes,
             "before_publication": row.before_publication, "source": row.source,
             "operator": row.operator,
             "occurred_at": snapshot_store.aware(row.occurred_at).isoformat()}
            for row in rows]
