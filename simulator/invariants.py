"""The figures a run ends with, and the invariants they must satisfy."""

import json
import logging
from pathlib import Path

from simulator import cashout_cases

log = logging.getLogger(__name__)

ROSTER_FIGURES = ("rows_read", "accepted_rows", "rejected_rows", "merged_duplicates",
                  "rejected", "beneficiaries")
TOWNSHIP_FIGURES = ("name", "eligible", "printed", "issued", "late_issued", "voided",
                    "handed_out", "redeemed_count", "redeemed_fen",
                    "paid_by_person_fen", "approved_fen", "allocated_fen", "refund_fen")


def collect_summary(world) -> dict:
    """Gather the figures of summary.json from the reports every role can read."""
    leading_group = world.bureaus["leading_group"]
    report = leading_group.get(f"{world.campaign_path}/summary")
    balances = leading_group.get(f"{world.campaign_path}/settlement/balances")
    townships = {row["code"]: {key: row.get(key) for key in TOWNSHIP_FIGURES}
                 for row in report["townships"]}
    totals = {key: sum(row[key] or 0 for row in townships.values())
              for key in TOWNSHIP_FIGURES if key != "name"}
    return {
        "campaign_id": world.campaign["campaign_id"],
        "roster": {key: world.roster_report[key] for key in ROSTER_FIGURES},
        "townships": townships,
        "totals": totals,
        "rejected_operations": dict(sorted(world.rejections.by_reason.items())),
        "ledger": {"balance_sum_fen": balances["balance_sum_fen"],
                   "province_net_paid_fen": balances["province_net_paid_fen"],
                   "approved_fen": balances["approved_fen"],
                   "transfers": balances["transfers"]},
        "reminders_sent": world.reminders_sent,
        "cashout_flags": len(getattr(world, "cashout_flags", {}).get("flags", [])),
        "open_flags_reported_before_audit": getattr(world, "reported_open_flags", None),
        "cashout": cashout_cases.summary_figures(world),
    }


def check_invariants(world, summary: dict, roster_files: list[Path]) -> dict:
    failures = []
    ledger = summary["ledger"]
    if ledger["balance_sum_fen"] != 0:
        failures.append(f"ledger balances sum to {ledger['balance_sum_fen']} fen, not 0")
    # The audit rejects the flagged redemptions: only approved voucher parts are paid.
    if ledger["province_net_paid_fen"] != summary["totals"]["approved_fen"]:
        failures.append(f"province paid {ledger['province_net_paid_fen']} fen but "
                        f"{summary['totals']['approved_fen']} fen were approved")
    if ledger["approved_fen"] != summary["totals"]["approved_fen"]:
        failures.append(f"settlement approved {ledger['approved_fen']} fen but "
                        f"reporting shows {summary['totals']['approved_fen']} fen")
    for code, township in summary["townships"].items():
        failures += _township_failures(world, code, township)
    failures += [f"operation not rejected as planned: {text}"
                 for text in world.rejections.unexpected]
    failures += _cashout_failures(world)
    failures += _roster_failures(summary["roster"], roster_files)
    return {"all_hold": not failures, "failures": failures}


def _township_failures(world, code: str, township: dict) -> list[str]:
    failures = []
    if township["refund_fen"] is not None and township["refund_fen"] != (
            township["allocated_fen"] - township["approved_fen"]):
        failures.append(f"{code}: refund {township['refund_fen']} != allocated "
                        f"{township['allocated_fen']} - approved "
                        f"{township['approved_fen']}")
    finance = world.bureaus["finance"]
    position = finance.get(f"{world.campaign_path}/settlement/townships/{code}")
    if position["allocated_fen"] != township["allocated_fen"]:
        failures.append(f"{code}: settlement allocated {position['allocated_fen']} but "
                        f"reporting shows {township['allocated_fen']}")
    if position["balance_fen"] != 0:
        failures.append(f"{code}: township account ends at {position['balance_fen']} fen")
    actor = world.townships[code].actor if code in world.townships else None
    if actor is not None and township["eligible"]:
        check = actor.get(f"{world.campaign_path}/townships/{code}/identity-check")
        if not check["holds"]:
            failures.append(f"{code}: voucher identities broken: {check}")
    return failures


def _cashout_failures(world) -> list[str]:
    """Every planted case is flagged by its rule, no ordinary redemption is flagged,
    reporting knew every flag as open before the audit, and the audit approved no
    flagged redemption."""
    flags = getattr(world, "cashout_flags", {}).get("flags", [])
    failures = []
    reported = getattr(world, "reported_open_flags", None)
    if reported is not None and reported != len(flags):
        failures.append(f"reporting showed {reported} open cash-out flags before the "
                        f"audit, but redemption raised {len(flags)}")
    planted_ids = set()
    for case in world.cashout_cases + world.cashout_refused:
        label = f"planted {case.rule} case at {case.merchant.code} on {case.day}"
        planted_ids.update(case.redemption_ids)
        if not case.played:
            failures.append(f"{label} was never played")
        failures += [f"{label}: {problem}" for problem in case.problems]
        if case.refused_with:
            continue
        ids = set(case.redemption_ids)
        if len(ids) != len(case.vouchers):
            failures.append(f"{label}: {len(ids)} of {len(case.vouchers)} vouchers "
                            "redeemed")
        if not ids or not any(flag["rule"] == case.rule
                              and ids <= set(flag["redemption_ids"]) for flag in flags):
            failures.append(f"{label} is not flagged by {case.rule} as one case")
    for flag in flags:
        ordinary = sorted(set(flag["redemption_ids"]) - planted_ids)
        if ordinary:
            failures.append(f"ordinary redemptions flagged by {flag['rule']}: "
                            f"{', '.join(ordinary)} ({flag['explanation']})")
    flagged = {rid for flag in flags for rid in flag["redemption_ids"]}
    approved = world.bureaus["commerce"].get(f"{world.campaign_path}/redemptions",
                                             params={"audit_state": "approved"})
    paid = sorted(flagged & {item["redemption_id"] for item in approved})
    if paid:
        failures.append(f"flagged redemptions approved in the audit: {', '.join(paid)}")
    return failures


def _roster_failures(roster: dict, roster_files: list[Path]) -> list[str]:
    expected_path = _expected_figures(roster_files)
    if expected_path is None:
        return []
    expected = json.loads(expected_path.read_text())
    return [f"roster {key}: imported {roster[key]!r}, expected {expected[key]!r}"
            for key in ROSTER_FIGURES if key in expected and roster[key] != expected[key]]


def _expected_figures(roster_files: list[Path]) -> Path | None:
    """Find an ``*expected.json`` beside the rosters that names exactly these files."""
    names = sorted(path.name for path in roster_files)
    for candidate in sorted(roster_files[0].parent.glob("*expected.json")):
        try:
            listed = sorted(json.loads(candidate.read_text()).get("files", []))
        except (ValueError, AttributeError):
            continue
        if listed == names:
            return candidate
    return None
