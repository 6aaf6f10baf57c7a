"""Matching a merchant's till export against the recorded redemptions (上下一致).

Rows and redemptions are paired by serial and then compared on the till transaction
id, the total and, when the export has it, the number of statement lines. The print
log is the third leg: a redeemed serial never printed for its township, or never
handed out, is reported even when the till agrees. Each pending redemption keeps the
outcome of the latest statement that covered it, and the audit approves only
``matched`` ones.
"""

import logging
import uuid

from sqlalchemy import select, update

from aixin.commands import record_audit
from services.redemption.campaigns import load_campaign
from services.redemption.models import redemptions, statements, vouchers
from services.redemption.periods import (check_period, redemptions_in_period,
                                         require_merchant)

log = logging.getLogger(__name__)

OUTCOMES = ("matched", "not_recorded", "not_in_statement", "mismatched", "print_log",
            "duplicate_rows")


def reconcile_statement(session, campaign_id: str, merchant_code: str, upload: dict,
                        rows: list[dict], actor_name: str, now) -> dict:
    """Store a till export with its reconciliation report and return the report.

    A file already uploaded by this merchant (same SHA-256) changes nothing and
    returns the stored report with ``duplicate`` set.
    """
    load_campaign(session, campaign_id)
    require_merchant(session, campaign_id, merchant_code)
    check_period(upload["period_from"], upload["period_to"])
    stored = session.execute(
        select(statements.c.report)
        .where(statements.c.campaign_id == campaign_id,
               statements.c.merchant_code == merchant_code,
               statements.c.sha256 == upload["sha256"])).first()
    if stored is not None:
        log.info("statement uploaded again, nothing changed merchant=%s sha256=%s",
                 merchant_code, upload["sha256"])
        return {**stored.report, "duplicate": True}
    recorded = _recorded(session, campaign_id, merchant_code, upload, rows)
    statement_id = str(uuid.uuid4())
    report = compare(rows, recorded)
    report["print_log"] = print_log_problems(session, recorded.values())
    _mark_redemptions(session, report, statement_id)
    report = {
        "statement_id": statement_id, "campaign_id": campaign_id,
        "merchant_code": merchant_code, "filename": upload["filename"],
        "sha256": upload["sha256"], "period_from": upload["period_from"].isoformat(),
        "period_to": upload["period_to"].isoformat(), "row_count": len(rows),
        "summary": {outcome: len(report[outcome]) for outcome in OUTCOMES},
        **report, "duplicate": False,
    }
    session.execute(statements.insert().values(
        statement_id=statement_id, campaign_id=campaign_id, merchant_code=merchant_code,
        sha256=upload["sha256"], filename=upload["filename"][:200],
        period_from=upload["period_from"], period_to=upload["period_to"],
        row_count=len(rows), report=report, uploaded_at=now, uploaded_by=actor_name))
    record_audit(session, now, actor_name, "reconcile_statement", statement_id,
                 campaign_id=campaign_id, merchant_code=merchant_code,
                 sha256=upload["sha256"], summary=report["summary"])
    return report


def _recorded(session, campaign_id, merchant_code, upload, rows) -> dict:
    """Return this merchant's redemptions in the period or named by the export."""
    found = {row.serial: row for row in redemptions_in_period(
        session, campaign_id, merchant_code, upload["period_from"],
        upload["period_to"])}
    named = sorted({row["serial"] for row in rows} - set(found))
    for start in range(0, len(named), 500):
        for row in session.execute(select(redemptions).where(
                redemptions.c.campaign_id == campaign_id,
                redemptions.c.merchant_code == merchant_code,
                redemptions.c.serial.in_(named[start:start + 500]))):
            found[row.serial] = row
    return found


def compare(rows: list[dict], recorded: dict) -> dict:
    """Sort export rows and recorded redemptions into the report's outcomes."""
    report = {outcome: [] for outcome in OUTCOMES if outcome != "print_log"}
    seen = set()
    for row in rows:
        serial = row["serial"]
        if serial in seen:
            report["duplicate_rows"].append({"row_no": row["row_no"], "serial": serial})
            continue
        seen.add(serial)
        redemption = recorded.get(serial)
        if redemption is None:
            report["not_recorded"].append(
                {key: row[key] for key in ("row_no", "serial", "till_transaction_id",
                                           "time", "total_fen")})
            continue
        problems = differences(row, redemption)
        entry = {"serial": serial, "redemption_id": redemption.redemption_id,
                 "row_no": row["row_no"]}
        if problems:
            report["mismatched"].append({**entry, "problems": problems})
        else:
            report["matched"].append({**entry, "total_fen": redemption.total_fen})
    for serial, redemption in sorted(recorded.items()):
        if serial not in seen:
            report["not_in_statement"].append({
                "serial": serial, "redemption_id": redemption.redemption_id,
                "till_transaction_id": redemption.till_transaction_id,
                "total_fen": redemption.total_fen})
    return report


def differences(row: dict, redemption) -> list[dict]:
    problems = []
    if row["till_transaction_id"] != redemption.till_transaction_id:
        problems.append({"field": "till_transaction_id",
                         "statement": row["till_transaction_id"],
                         "recorded": redemption.till_transaction_id})
    if row["total_fen"] != redemption.total_fen:
        problems.append({"field": "total_fen", "statement": row["total_fen"],
                         "recorded": redemption.total_fen})
    if row["items"] is not None and row["items"] != len(redemption.lines):
        problems.append({"field": "items", "statement": row["items"],
                         "recorded": len(redemption.lines)})
    return problems


def print_log_problems(session, recorded) -> list[dict]:
    """Report redeemed serials never printed for their township or never handed out."""
    by_serial = {redemption.serial: redemption for redemption in recorded}
    problems = []
    serials = sorted(by_serial)
    for start in range(0, len(serials), 500):
        for voucher in session.execute(select(vouchers).where(
                vouchers.c.serial.in_(serials[start:start + 500]))):
            redemption = by_serial[voucher.serial]
            problem = _print_problem(voucher, redemption.township_code)
            if problem:
                problems.append({"serial": voucher.serial, "problem": problem,
                                 "redemption_id": redemption.redemption_id,
                                 "township_code": redemption.township_code,
                                 "printed_township_code": voucher.printed_township_code})
    return sorted(problems, key=lambda problem: problem["serial"])


def _print_problem(voucher, township_code: str) -> str | None:
    if voucher.printed_township_code is None:
        return "never_printed"
    if voucher.printed_township_code != township_code:
        return "printed_for_other_township"
    if voucher.issued_at is None:
        return "never_issued"
    return None


def _mark_redemptions(session, report: dict, statement_id: str) -> None:
    """Keep each pending redemption's latest outcome for the audit."""
    status = {}
    for outcome in ("matched", "mismatched", "not_in_statement"):
        for entry in report[outcome]:
            status[entry["redemption_id"]] = outcome
    for entry in report["print_log"]:
        status[entry["redemption_id"]] = "print_log_mismatch"
    for redemption_id, outcome in status.items():
        session.execute(update(redemptions)
                        .where(redemptions.c.redemption_id == redemption_id,
                               redemptions.c.audit_state == "pending")
                        .values(match_status=outcome,
                                match_statement_id=statement_id))
