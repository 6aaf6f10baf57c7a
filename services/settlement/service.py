"""The settlement service: the Finance Bureau's ledger, allocation and clearing."""

import logging

from nameko.rpc import rpc

from aixin import nameko_kit
from aixin.commands import run_command
from aixin.errors import DomainError, NotFound
from aixin.nameko_kit import CampaignClock, Storage, consume
from aixin.validation import load
from services.settlement import (accounts, audits, clearings, funds, intake, payments,
                                 schemas, statements)
from services.settlement.domain.ledger import TOWNSHIP_PREFIX

log = logging.getLogger(__name__)


def check_account_scope(actor: dict, account: str) -> None:
    """Raise NotFound when a township caller requests an account other than its own."""
    if actor.get("role") == "township" and account != TOWNSHIP_PREFIX + str(
            actor.get("scope")):
        raise NotFound("not_found", "未找到该对象，或您无权访问。")


class SettlementService(nameko_kit.HealthCheck):
    name = "settlement"

    db = Storage("settlement")
    clock = CampaignClock()

    # Events from the other services.

    @consume("campaign_created")
    def on_campaign_created(self, session, event):
        intake.store_campaign(session, event.data)

    @consume("roster_publication_completed")
    def on_roster_publication_completed(self, session, event):
        intake.store_roster_counts(session, event.data)

    @consume("roster_amended")
    def on_roster_amended(self, session, event):
        intake.apply_amendment(session, event)

    @consume("merchant_designated")
    def on_merchant_designated(self, session, event):
        intake.store_merchant(session, event.data)

    @consume("voucher_redeemed")
    def on_voucher_redeemed(self, session, event):
        audits.record_redemption(session, event.data)

    @consume("redemptions_audited")
    def on_redemptions_audited(self, session, event):
        audits.apply_audit(session, event)

    # Commands.

    def _command(self, operation, key, request, execute):
        now = self.clock.now()
        return run_command(self.db, key, operation, request, now,
                           lambda session: execute(session, now))

    @rpc(expected_exceptions=DomainError)
    def record_pre_allocation(self, actor: dict, campaign_id: str, payload: dict,
                              idempotency_key: str):
        """Record money the province actually sent, with its arrival time."""
        command = load(schemas.RecordPreAllocation(), payload)
        return self._command(
            "record_pre_allocation", idempotency_key, [campaign_id, payload],
            lambda session, now: funds.record_pre_allocation(
                session, campaign_id, command, actor["name"], now))

    @rpc(expected_exceptions=DomainError)
    def approve_allocation(self, actor: dict, campaign_id: str, payload: dict,
                           idempotency_key: str):
        """Allocate each township its eligible count times the face value."""
        command = load(schemas.ApproveAllocation(), payload)
        return self._command(
            "approve_allocation", idempotency_key, [campaign_id, payload],
            lambda session, now: funds.approve_allocation(
                session, campaign_id, command, actor["name"], now))

    @rpc(expected_exceptions=DomainError)
    def record_merchant_payment(self, actor: dict, campaign_id: str, merchant_code: str,
                                payload: dict, idempotency_key: str):
        """Record a payment of reimbursements to a merchant's bank account."""
        command = load(schemas.RecordMerchantPayment(), payload)
        return self._command(
            "record_merchant_payment", idempotency_key,
            [campaign_id, merchant_code, payload],
            lambda session, now: payments.record_payment(
                session, campaign_id, merchant_code, command, actor["name"], now))

    @rpc(expected_exceptions=DomainError)
    def clear_township(self, actor: dict, campaign_id: str, township_code: str,
                       payload: dict, idempotency_key: str):
        """Refund or top up a township once all its redemptions are audited."""
        command = load(schemas.Clear(), payload)
        return self._command(
            "clear_township", idempotency_key, [campaign_id, township_code, payload],
            lambda session, now: clearings.clear_township(
                session, campaign_id, township_code, command, actor["name"], now))

    @rpc(expected_exceptions=DomainError)
    def clear_district(self, actor: dict, campaign_id: str, payload: dict,
                       idempotency_key: str):
        """Refund to or get a top-up from the province after every township cleared."""
        command = load(schemas.Clear(), payload)
        return self._command(
            "clear_district", idempotency_key, [campaign_id, payload],
            lambda session, now: clearings.clear_district(
                session, campaign_id, command, actor["name"], now))

    # Reads.

    @rpc(expected_exceptions=DomainError)
    def get_pre_allocation(self, actor: dict, campaign_id: str):
        with self.db.reading() as session:
            return funds.pre_allocation(session, campaign_id)

    @rpc(expected_exceptions=DomainError)
    def get_allocation(self, actor: dict, campaign_id: str):
        with self.db.reading() as session:
            return funds.allocation(session, campaign_id)

    @rpc(expected_exceptions=DomainError)
    def list_merchants(self, actor: dict, campaign_id: str):
        with self.db.reading() as session:
            return payments.positions(session, campaign_id)

    @rpc(expected_exceptions=DomainError)
    def get_merchant(self, actor: dict, campaign_id: str, merchant_code: str):
        with self.db.reading() as session:
            return payments.position(session, campaign_id, merchant_code)

    @rpc(expected_exceptions=DomainError)
    def get_township(self, actor: dict, campaign_id: str, township_code: str):
        check_account_scope(actor, TOWNSHIP_PREFIX + township_code)
        with self.db.reading() as session:
            return accounts.township_summary(session, campaign_id, township_code)

    @rpc(expected_exceptions=DomainError)
    def get_ledger(self, actor: dict, campaign_id: str, account: str):
        check_account_scope(actor, account)
        with self.db.reading() as session:
            return accounts.ledger_listing(session, campaign_id, account)

    @rpc(expected_exceptions=DomainError)
    def get_balances(self, actor: dict, campaign_id: str):
        with self.db.reading() as session:
            return accounts.balances_summary(session, campaign_id)

    # Documents.

    @rpc(expected_exceptions=DomainError)
    def township_statement(self, actor: dict, campaign_id: str, township_code: str,
                           file_format: str = "xlsx"):
        check_account_scope(actor, TOWNSHIP_PREFIX + township_code)
        with self.db.reading() as session:
            return statements.township_statement(session, campaign_id, township_code,
                                                 file_format, self.clock.now())

    @rpc(expected_exceptions=DomainError)
    def merchant_statement(self, actor: dict, campaign_id: str, merchant_code: str,
                           file_format: str = "xlsx"):
        with self.db.reading() as session:
            return statements.merchant_statement(session, campaign_id, merchant_code,
                                                 file_format, self.clock.now())

    @rpc(expected_exceptions=DomainError)
    def district_statement(self, actor: dict, campaign_id: str,
                           file_format: str = "xlsx"):
        with self.db.reading() as session:
            return statements.district_statement(session, campaign_id, file_format,
                                                 self.clock.now())
