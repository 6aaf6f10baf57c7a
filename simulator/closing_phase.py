"""After the deadline: audit, the joint report, reimbursement and clearing."""

import csv
import logging
import time
from datetime import timedelta

from simulator import cashout_cases
from simulator.dates import at

log = logging.getLogger(__name__)

TILL_COLUMNS = ["serial", "till_transaction_id", "time", "total_fen", "items"]
# Seconds to wait for reporting to learn of the open cash-out flags (the redemption
# service announces them a few seconds after the redemptions stop).
FLAGS_REPORTED_WAIT_S = 90


def upload_till_exports(world, dates) -> None:
    """Each merchant uploads its till export so redemptions can be matched (上下一致)."""
    world.set_clock(at(dates.redemption_deadline + timedelta(days=1), 15))
    world.statement_reports = {}
    for merchant in world.merchants.values():
        path = world.out / "statements" / f"{merchant.code}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=TILL_COLUMNS)
            writer.writeheader()
            writer.writerows(world.till_records.get(merchant.code, []))
        with path.open("rb") as handle:
            world.statement_reports[merchant.code] = merchant.actor.post(
                f"{world.campaign_path}/merchants/{merchant.code}/statements",
                files=[("files", (path.name, handle))],
                data={"period_from": dates.funds_due.replace(day=1).isoformat(),
                      "period_to": dates.redemption_deadline.isoformat()})


def audit_redemptions(world, dates) -> None:
    """Commerce audits each supermarket and rejects its flagged redemptions.

    The rejection reason names the cash-out rule and repeats the flag's explanation
    (see ``cashout_cases.audit_rejections``); unmatched redemptions are rejected by
    the service itself.
    """
    commerce = world.bureaus["commerce"]
    world.set_clock(at(dates.redemption_deadline + timedelta(days=2), 10))
    flags = commerce.get(f"{world.campaign_path}/cashout-flags")
    world.cashout_flags = flags
    world.reported_open_flags = wait_for_reported_flags(world, len(flags["flags"]))
    for merchant in world.merchants.values():
        if not world.till_records.get(merchant.code):
            continue  # nothing redeemed there: nothing to audit
        own_flags = commerce.get(f"{world.campaign_path}/cashout-flags",
                                 params={"merchant_code": merchant.code})
        commerce.post(f"{world.campaign_path}/merchants/{merchant.code}/audits", json={
            "period_from": dates.funds_due.replace(day=1).isoformat(),
            "period_to": dates.redemption_deadline.isoformat(),
            "rejections": cashout_cases.audit_rejections(own_flags)})
    world.settle()


def wait_for_reported_flags(world, expected: int) -> int:
    """Wait until reporting counts ``expected`` open flags; return what it counts.

    Before the audit every flag is open, so the read model must show them all.
    """
    commerce = world.bureaus["commerce"]
    deadline = time.monotonic() + FLAGS_REPORTED_WAIT_S
    while True:
        counted = commerce.get(f"{world.campaign_path}/summary")["totals"]["open_flags"]
        if counted == expected or time.monotonic() > deadline:
            log.info("reporting shows %s open cash-out flags of %s", counted, expected)
            return counted
        time.sleep(1)


def joint_report(world, dates) -> None:
    world.set_clock(at(dates.joint_audit_date, 9))
    world.send_due_reminders()
    commerce = world.bureaus["commerce"]
    base = f"{world.campaign_path}/reports/joint"
    world.save("reports/joint-report.xlsx", commerce.get(f"{base}.xlsx", raw=True))
    world.save("reports/joint-report.pdf", commerce.get(f"{base}.pdf", raw=True))


def reimburse_and_clear(world, dates) -> None:
    finance = world.bureaus["finance"]
    settlement = f"{world.campaign_path}/settlement"
    world.set_clock(at(dates.joint_audit_date + timedelta(days=3), 10))
    for merchant in finance.get(f"{settlement}/merchants"):
        if merchant["unpaid_fen"] > 0:
            finance.post(f"{settlement}/merchants/{merchant['merchant_code']}/payments",
                         json={"amount_fen": merchant["unpaid_fen"],
                               "memo": "核销资金结算"})
    world.settle()
    for township in world.townships.values():
        if township.beneficiaries:
            finance.post(f"{settlement}/townships/{township.code}/clearing",
                         json={"reason": "按审核结果清算"})
    world.settle()
    world.set_clock(at(dates.clearing_deadline - timedelta(days=3), 9))
    world.send_due_reminders()
    world.set_clock(at(dates.clearing_deadline - timedelta(days=2), 10))
    finance.post(f"{settlement}/clearing", json={"reason": "与省财政清算，多退少补"})
    world.save("reports/district-settlement-statement.xlsx", finance.get(
        f"{settlement}/statement", params={"format": "xlsx"}, raw=True))
    world.settle()
