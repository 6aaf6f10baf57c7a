"""Reading the ledger: one account's transfers, every balance, a township's figures."""

from services.settlement import store
from services.settlement.domain.allocation import allocated_by_township
from services.settlement.domain.ledger import (PROVINCE, Reason, flows,
                                               township_account, validate_account)
from services.settlement.domain.reimbursement import AuditStatus


def ledger_listing(session, campaign_id: str, account: str) -> dict:
    """List one account's transfers in posting order with running balances."""
    validate_account(account)
    store.load_campaign(session, campaign_id)
    lines = store.load_ledger(session, campaign_id).statement(account)
    return {
        "campaign_id": campaign_id, "account": account,
        "balance_fen": lines[-1].balance_fen if lines else 0,
        "lines": [line.as_row() for line in lines],
    }


def balances_summary(session, campaign_id: str) -> dict:
    """Return every account's balance, their sum (always 0) and the province's net."""
    store.load_campaign(session, campaign_id)
    ledger = store.load_ledger(session, campaign_id)
    balances = ledger.balances()
    redemptions = store.load_redemptions(session, campaign_id)
    return {
        "campaign_id": campaign_id,
        "balances": [{"account": account, "balance_fen": balances[account]}
                     for account in sorted(balances)],
        "balance_sum_fen": sum(balances.values()),
        "province_net_paid_fen": -balances.get(PROVINCE, 0),
        "approved_fen": sum(r.voucher_part_fen for r in redemptions
                            if r.status is AuditStatus.APPROVED),
        "pending_redemptions": sum(1 for r in redemptions
                                   if r.status is AuditStatus.PENDING),
        "transfers": len(ledger),
    }


def township_summary(session, campaign_id: str, township_code: str) -> dict:
    """Return a township's allocation, redemptions by audit status and clearing."""
    store.load_campaign(session, campaign_id)
    township = store.load_township(session, campaign_id, township_code)
    ledger = store.load_ledger(session, campaign_id)
    transfers = ledger.transfers
    account = township_account(township_code)
    redemptions = [r for r in store.load_redemptions(session, campaign_id)
                   if r.township == township_code]
    approved = sum(r.voucher_part_fen for r in redemptions
                   if r.status is AuditStatus.APPROVED)
    allocated = allocated_by_township(transfers).get(township_code, 0)
    refunded = _net(transfers, Reason.REFUND, account) - _net(
        transfers, Reason.TOP_UP, account, outgoing=False)
    return {
        "campaign_id": campaign_id, "township_code": township_code,
        "name": township.name, "eligible": township.eligible,
        "published_eligible": township.published_eligible,
        "allocated_fen": allocated, "approved_fen": approved,
        "pending_fen": sum(r.voucher_part_fen for r in redemptions
                           if r.status is AuditStatus.PENDING),
        "redemptions": {status.value: sum(1 for r in redemptions if r.status is status)
                        for status in AuditStatus},
        "refund_fen": allocated - approved, "cleared_fen": refunded,
        "balance_fen": ledger.balance(account),
        "cleared_at": store.iso(township.cleared_at),
    }


def _net(transfers, reason: Reason, account: str, outgoing: bool = True) -> int:
    """Sum the flows of ``reason`` leaving ``account``, or arriving unless outgoing."""
    side = "source" if outgoing else "destination"
    return sum(flow.amount_fen for flow in flows(transfers)
               if flow.reason is reason and getattr(flow, side) == account)

