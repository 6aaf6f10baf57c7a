"""The issuance service: townships print, hand out and account for every voucher."""

import logging

from nameko.rpc import rpc

from aixin import nameko_kit
from aixin.commands import run_command
from aixin.errors import DomainError, NotFound
from aixin.nameko_kit import CampaignClock, Storage, consume
from aixin.validation import load
from aixin.vouchers import check_code as compute_check_code
from services.issuance import (accounting, copies, documents, handouts, printing,
                               schemas, sheets, views, voiding)
from services.issuance.keys import VoucherMacKey
from services.issuance.rpc_errors import shared_errors

log = logging.getLogger(__name__)

TOWNSHIP_WIDE_ROLES = {"commerce", "finance", "leading_group", "admin"}


def check_scope(actor: dict, township_code: str) -> None:
    """Reject an actor outside the township, as if the township did not exist.

    The gateway checks this too. The service repeats the check so that no RPC
    caller can skip it.
    """
    if actor.get("role") in TOWNSHIP_WIDE_ROLES:
        return
    if actor.get("role") == "township" and actor.get("scope") == township_code:
        return
    log.warning("rejected out-of-scope call role=%s token_id=%s township=%s",
                actor.get("role"), actor.get("token_id"), township_code)
    raise NotFound("not_found", "未找到该对象，或您无权访问。")


class IssuanceService(nameko_kit.HealthCheck):
    name = "issuance"

    db = Storage("issuance")
    clock = CampaignClock()
    mac_key = VoucherMacKey()

    def _command(self, actor, campaign_id, township_code, operation, payload,
                 idempotency_key, schema, apply):
        check_scope(actor, township_code)
        command = load(schema, payload)
        now = self.clock.now()
        return run_command(
            self.db, idempotency_key, operation, [campaign_id, township_code, payload],
            now, lambda session: shared_errors(apply)(
                session, campaign_id, township_code, command, actor["name"], now))

    # Printing ---------------------------------------------------------------

    @rpc(expected_exceptions=DomainError)
    @shared_errors
    def order_print_batch(self, actor, campaign_id, township_code, payload,
                          idempotency_key):
        """Record a print run; return its serials with their check codes."""
        result = self._command(actor, campaign_id, township_code, "order_print_batch",
                               payload, idempotency_key, schemas.OrderPrintBatch(),
                               printing.order_print_batch)
        # Check codes are added after the command so they are never stored.
        vouchers = [
            {"serial": serial, "check_code": compute_check_code(self.mac_key, serial)}
            for serial in result["serials"]]
        return {**{k: v for k, v in result.items() if k != "serials"},
                "vouchers": vouchers}

    @rpc(expected_exceptions=DomainError)
    @shared_errors
    def list_print_batches(self, actor, campaign_id, township_code):
        check_scope(actor, township_code)
        with self.db.reading() as session:
            return printing.list_batches(session, campaign_id, township_code)

    @rpc(expected_exceptions=DomainError)
    @shared_errors
    def print_file(self, actor, campaign_id, township_code, batch_id):
        """Return the printer's PDF of a batch, with check codes and QR codes."""
        check_scope(actor, township_code)
        with self.db.reading() as session:
            batch = printing.batch_document(session, campaign_id, township_code,
                                            batch_id, self.mac_key)
        return sheets.file_payload(f"消费券印制文件-{batch.batch_no}.pdf", "pdf",
                                   documents.render_print_file(batch))

    @rpc(expected_exceptions=DomainError)
    @shared_errors
    def batch_list(self, actor, campaign_id, township_code, batch_id):
        """Return the merchant's XLSX list of a batch, without check codes."""
        check_scope(actor, township_code)
        with self.db.reading() as session:
            batch = printing.batch_document(session, campaign_id, township_code,
                                            batch_id, self.mac_key)
        return sheets.file_payload(f"消费券印制清单-{batch.batch_no}.xlsx", "xlsx",
                                   documents.render_batch_list(batch))

    # Handing out --------------------------------------------------------------

    @rpc(expected_exceptions=DomainError)
    @shared_errors
    def hand_out(self, actor, campaign_id, township_code, payload, idempotency_key):
        return self._command(actor, campaign_id, township_code, "hand_out", payload,
                             idempotency_key, schemas.HandOut(), handouts.hand_out)

    @rpc(expected_exceptions=DomainError)
    @shared_errors
    def collect_for_institution(self, actor, campaign_id, township_code, payload,
                                idempotency_key):
        return self._command(actor, campaign_id, township_code,
                             "collect_for_institution", payload, idempotency_key,
                             schemas.CollectForInstitution(),
                             handouts.collect_for_institution)

    @rpc(expected_exceptions=DomainError)
    @shared_errors
    def void_voucher(self, actor, campaign_id, township_code, payload,
                     idempotency_key):
        return self._command(actor, campaign_id, township_code, "void_voucher",
                             payload, idempotency_key, schemas.Void(), voiding.void)

    @rpc(expected_exceptions=DomainError)
    @shared_errors
    def reissue_voucher(self, actor, campaign_id, township_code, payload,
                        idempotency_key):
        return self._command(actor, campaign_id, township_code, "reissue_voucher",
                             payload, idempotency_key, schemas.Reissue(),
                             voiding.reissue)

    @rpc(expected_exceptions=DomainError)
    @shared_errors
    def end_handout(self, actor, campaign_id, township_code, payload, idempotency_key):
        return self._command(actor, campaign_id, township_code, "end_handout",
                             payload, idempotency_key, schemas.EndHandout(),
                             voiding.end_handout)

    # Reading ----------------------------------------------------------------

    @rpc(expected_exceptions=DomainError)
    @shared_errors
    def progress(self, actor, campaign_id, township_code):
        check_scope(actor, township_code)
        with self.db.reading() as session:
            return accounting.progress(session, campaign_id, township_code)

    @rpc(expected_exceptions=DomainError)
    @shared_errors
    def check_identities(self, actor, campaign_id, township_code):
        check_scope(actor, township_code)
        with self.db.reading() as session:
            result = accounting.identity_check(session, campaign_id, township_code)
        if not result["holds"]:
            log.error("voucher identities broken campaign=%s township=%s broken=%s",
                      campaign_id, township_code, result["broken"])
        return result

    @rpc(expected_exceptions=DomainError)
    @shared_errors
    def search_beneficiaries(self, actor, campaign_id, township_code, name=None,
                             village=None, masked_id=None):
        check_scope(actor, township_code)
        with self.db.reading() as session:
            return views.search_beneficiaries(session, campaign_id, township_code,
                                              name, village, masked_id)

    @rpc(expected_exceptions=DomainError)
    @shared_errors
    def get_voucher(self, actor, campaign_id, township_code, serial):
        check_scope(actor, township_code)
        with self.db.reading() as session:
            return views.voucher_detail(session, campaign_id, township_code, serial)

    @rpc(expected_exceptions=DomainError)
    @shared_errors
    def sign_off_sheet(self, actor, campaign_id, township_code, village=None,
                       institution=None, file_format="pdf"):
        check_scope(actor, township_code)
        with self.db.reading() as session:
            sheet = sheets.sign_off_sheet(session, campaign_id, township_code,
                                          village, institution)
        return sheets.render_sign_off(sheet, file_format)

    @rpc(expected_exceptions=DomainError)
    @shared_errors
    def public_voucher(self, serial, check_code):
        """Return a voucher's public state; the same 404 for any wrong input."""
        with self.db.reading() as session:
            return views.public_voucher(session, self.mac_key, serial, check_code)

    # Events -----------------------------------------------------------------

    @consume("campaign_created")
    def on_campaign_created(self, session, event):
        copies.apply_campaign_created(session, event.data)

    @consume("merchant_designated")
    def on_merchant_designated(self, session, event):
        copies.apply_merchant_designated(session, event.data)

    @consume("roster_published")
    def on_roster_published(self, session, event):
        copies.apply_roster_published(session, event.data)

    @consume("roster_publication_completed")
    def on_roster_publication_completed(self, session, event):
        copies.apply_roster_publication_completed(session, event.data)

    @consume("roster_amended")
    def on_roster_amended(self, session, event):
        copies.apply_roster_amended(session, event.data, self.clock.now())

    @consume("funds_allocated")
    def on_funds_allocated(self, session, event):
        copies.apply_funds_allocated(session, event.data)

    @consume("voucher_redeemed")
    def on_voucher_redeemed(self, session, event):
        copies.apply_voucher_redeemed(session, event.data)
