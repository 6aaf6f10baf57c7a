"""The redemption service: the Commerce Bureau's campaigns, merchants and redemptions."""

import logging

from nameko.rpc import rpc
from nameko.timer import timer
from sqlalchemy import exc as sa_exc

from aixin import nameko_kit
from aixin.clock import ClockNotSet
from aixin.commands import run_command
from aixin.errors import DomainError, Forbidden, InvalidInput, error_as_data
from aixin.nameko_kit import CampaignClock, Storage, consume
from aixin.validation import load
from services.redemption import (auditing, campaigns, flag_checks, flags, matching,
                                 reads, redeeming, redeeming_pg, schemas, voucher_book)
from services.redemption.domain.reasons import rejection
from services.redemption.fixed_rows import FixedRowsCache
from services.redemption.till_export import read_till_export
from services.redemption.voucher_key import VoucherKey

log = logging.getLogger(__name__)

MAX_IDEMPOTENCY_KEY_LENGTH = 80
# Seconds between checks of the open cash-out flags (see flag_checks).
FLAG_CHECK_INTERVAL_S = 5
# Schemas hold no state between loads, so the busiest one is built once.
REDEEM_SCHEMA = schemas.Redeem()
# The fields of each request of ``redeem_batch``, the arguments of ``redeem``.
BATCH_FIELDS = frozenset({"actor", "campaign_id", "payload", "idempotency_key"})


def scoped_key(kind: str, merchant_code: str, idempotency_key: str) -> str:
    """Prefix a client's key with the merchant, so merchants' keys never collide."""
    if idempotency_key and len(idempotency_key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise InvalidInput(
            "invalid_idempotency_key",
            f"幂等键长度不能超过 {MAX_IDEMPOTENCY_KEY_LENGTH} 个字符：请缩短后重试。")
    return idempotency_key and f"{kind}:{merchant_code}:{idempotency_key}"


def require_role(actor: dict, *roles: str) -> None:
    if actor.get("role") not in roles:
        raise Forbidden("forbidden", "您的角色无权执行此操作。")


def check_batch(requests) -> None:
    """Reject a batch that is not a list of redemption requests as the gateway sends."""
    if not isinstance(requests, list) or not all(
            isinstance(request, dict) and BATCH_FIELDS <= request.keys()
            and isinstance(request["actor"], dict) for request in requests):
        raise InvalidInput("invalid_batch",
                           "批量核销请求格式无效：应为核销请求的列表，每项包含 "
                           + "、".join(sorted(BATCH_FIELDS)) + "。")


class RedemptionService(nameko_kit.HealthCheck):
    name = "redemption"

    db = Storage("redemption")
    clock = CampaignClock()
    voucher_key = VoucherKey()
    fixed_rows = FixedRowsCache()
    flag_pacing = flag_checks.FlagCheckPacing()

    @rpc(expected_exceptions=DomainError)
    def create_campaign(self, actor: dict, payload: dict, idempotency_key: str):
        """Create a campaign from its configuration and announce it to every bureau."""
        config = load(schemas.CreateCampaign(), payload)
        now = self.clock.now()
        return run_command(
            self.db, idempotency_key, "create_campaign", payload, now,
            lambda session: campaigns.create_campaign(session, config, actor["name"], now))

    @rpc(expected_exceptions=DomainError)
    def designate_merchant(self, actor: dict, campaign_id: str, payload: dict,
                           idempotency_key: str):
        """Designate a supermarket to print and redeem the vouchers of its townships."""
        merchant = load(schemas.DesignateMerchant(), payload)
        now = self.clock.now()
        return run_command(
            self.db, idempotency_key, "designate_merchant", [campaign_id, payload], now,
            lambda session: campaigns.designate_merchant(
                session, campaign_id, merchant, actor["name"], now))

    @rpc(expected_exceptions=DomainError)
    def get_campaign(self, campaign_id: str):
        with self.db.reading() as session:
            return campaigns.load_campaign(session, campaign_id)

    @rpc(expected_exceptions=DomainError)
    def redeem(self, actor: dict, campaign_id: str, payload: dict, idempotency_key: str):
        """Redeem one voucher for the calling merchant against its itemised statement."""
        return self._redeem(actor, campaign_id, payload, idempotency_key)

    @rpc(expected_exceptions=DomainError)
    def redeem_batch(self, requests: list) -> list:
        """Redeem each request as ``redeem`` would if they came one after the other,
        and return one outcome per request, in order: ``{"result": ...}``,
        ``{"error": ...}`` (see ``aixin.errors.error_as_data``) or
        ``{"failure": ...}`` for an unexpected error.

        The gateway sends the concurrent redemptions of its tills in one call, which
        saves a broker round trip and a worker per redemption. Each request keeps its
        own idempotency key, so a batch that is sent again changes nothing twice.
        """
        check_batch(requests)
        try:
            results = redeeming_pg.redeem_batch(
                self.db, self.voucher_key, self.fixed_rows,
                self._batch_requests(requests), self.clock.now())
        except Exception:  # noqa: BLE001 - each request is tried alone below
            # Whatever the batch wrote is stored under its keys, so the requests
            # that go one at a time below return it instead of writing it twice.
            log.exception("batch redemption failed requests=%d", len(requests))
            results = {}
        outcomes = []
        for position, request in enumerate(requests):
            if position in results:
                outcomes.append({"result": results[position]})
                continue
            try:
                outcomes.append({"result": self._redeem(
                    request["actor"], request["campaign_id"], request["payload"],
                    request["idempotency_key"])})
            except DomainError as error:
                outcomes.append({"error": error_as_data(error)})
            except Exception as error:  # noqa: BLE001 - the other requests go on
                log.exception("redemption failed correlation_id=%s",
                              (request.get("actor") or {}).get("correlation_id"))
                outcomes.append({"failure": type(error).__name__})
        return outcomes

    def _batch_requests(self, requests: list) -> list:
        """Return the requests that can go in one batch write, as BatchRequests.

        A request that cannot join the write (it is not plainly valid) still keeps
        its key. A later request of the batch with the same key then goes one at a
        time after it, so the first use of a key counts, as it would one at a time.
        """
        batch, held_keys = [], set()
        for position, request in enumerate(requests):
            key = (request["actor"].get("scope"), request["idempotency_key"])
            item = None if key in held_keys else self._batch_request(position, request)
            if item is None:
                held_keys.add(key)
            else:
                batch.append(item)
        return batch

    def _batch_request(self, position: int, request: dict):
        """Return a plainly valid request as a ``redeeming_pg.BatchRequest``, else None
        (``_redeem`` then rejects it with the usual error)."""
        actor = request["actor"]
        if actor.get("role") != "merchant":
            return None
        try:
            key = scoped_key("redeem", actor["scope"], request["idempotency_key"])
            loaded = load(REDEEM_SCHEMA, request["payload"])
        except DomainError:
            return None
        if not redeeming_pg.usable(self.db, key, loaded):
            return None
        return redeeming_pg.BatchRequest(
            position, key, [request["campaign_id"], request["payload"]],
            request["campaign_id"], actor["scope"], loaded, actor["name"])

    def _redeem(self, actor: dict, campaign_id: str, payload: dict,
                idempotency_key: str) -> dict:
        require_role(actor, "merchant")
        merchant_code = actor["scope"]
        key = scoped_key("redeem", merchant_code, idempotency_key)
        now = self.clock.now()
        fingerprint = [campaign_id, payload]

        def execute(session):
            return redeeming.redeem(session, self.voucher_key, campaign_id,
                                    merchant_code, request, actor["name"], now,
                                    self.fixed_rows)

        try:
            request = load(REDEEM_SCHEMA, payload)
            if redeeming_pg.usable(self.db, key, request):
                return redeeming_pg.redeem_in_one_statement(
                    self.db, self.voucher_key, self.fixed_rows, key, fingerprint,
                    campaign_id, merchant_code, request, actor["name"], now)
            return run_command(self.db, key, "redeem", fingerprint, now, execute)
        except sa_exc.IntegrityError:
            # Only the unique serial of ``redemptions`` can fail here, and only if
            # the conditional update was bypassed: reject as a second redemption.
            log.error("unique redemption guard fired serial=%s merchant=%s",
                      payload.get("serial"), merchant_code)
            error = rejection("voucher_already_redeemed", serial=payload.get("serial"))
        except DomainError as rejected:
            error = rejected
        if error.code == "voucher_already_redeemed":
            # A concurrent request with the same key may have won: return its result.
            error = self._replay_or(key, fingerprint, now, error)
            if isinstance(error, dict):
                return error
        log.warning("redemption rejected serial=%s merchant=%s reason=%s",
                    payload.get("serial"), merchant_code, error.code)
        raise error

    def _replay_or(self, key, fingerprint, now, error):
        def fail(_session):
            raise error

        try:
            return run_command(self.db, key, "redeem", fingerprint, now, fail)
        except DomainError as stored:
            return stored

    @rpc(expected_exceptions=DomainError)
    def list_redemptions(self, actor: dict, campaign_id: str, **filters):
        with self.db.reading() as session:
            return reads.list_redemptions(session, actor, campaign_id, **filters)

    @rpc(expected_exceptions=DomainError)
    def get_redemption(self, actor: dict, campaign_id: str, redemption_id: str):
        with self.db.reading() as session:
            return reads.get_redemption(session, actor, campaign_id, redemption_id)

    @rpc(expected_exceptions=DomainError)
    def upload_statement(self, actor: dict, campaign_id: str, merchant_code: str,
                         payload: dict, idempotency_key: str):
        """Reconcile an uploaded till export with the merchant's redemptions."""
        merchant_code = reads.merchant_scope(actor, merchant_code)
        upload = load(schemas.StatementUpload(), payload)
        # The file is parsed before the transaction opens, to keep it short.
        rows = read_till_export(upload["path"], upload.get("filename"))
        now = self.clock.now()
        return run_command(
            self.db, scoped_key("statement", merchant_code, idempotency_key),
            "upload_statement", [campaign_id, merchant_code, payload], now,
            lambda session: matching.reconcile_statement(
                session, campaign_id, merchant_code, upload, rows, actor["name"], now))

    @rpc(expected_exceptions=DomainError)
    def list_statements(self, actor: dict, campaign_id: str, merchant_code: str):
        with self.db.reading() as session:
            return reads.list_statements(session, actor, campaign_id, merchant_code)

    @rpc(expected_exceptions=DomainError)
    def get_statement(self, actor: dict, campaign_id: str, merchant_code: str,
                      statement_id: str):
        with self.db.reading() as session:
            return reads.get_statement(session, actor, campaign_id, merchant_code,
                                       statement_id)

    @rpc(expected_exceptions=DomainError)
    def audit_redemptions(self, actor: dict, campaign_id: str, merchant_code: str,
                          payload: dict, idempotency_key: str):
        """Approve a merchant's matched redemptions of a period and reject the rest."""
        require_role(actor, "commerce")
        request = load(schemas.Audit(), payload)
        now = self.clock.now()
        return run_command(
            self.db, idempotency_key, "audit_redemptions",
            [campaign_id, merchant_code, payload], now,
            lambda session: auditing.audit_merchant(
                session, campaign_id, merchant_code, request, actor["name"], now))

    @rpc(expected_exceptions=DomainError)
    def list_audits(self, actor: dict, campaign_id: str, merchant_code: str = None):
        require_role(actor, *reads.READ_ALL_ROLES)
        with self.db.reading() as session:
            return reads.list_audits(session, campaign_id, merchant_code)

    @rpc(expected_exceptions=DomainError)
    def cashout_flags(self, actor: dict, campaign_id: str, merchant_code: str = None):
        """List the cash-out flags over the redemptions, for commerce before its audit."""
        require_role(actor, *reads.READ_ALL_ROLES)
        with self.db.reading() as session:
            return flags.cashout_flags(session, campaign_id, merchant_code)

    @rpc(expected_exceptions=DomainError)
    def check_cashout_flags(self):
        """Announce the open cash-out flags of every campaign whose flags changed."""
        return {"announced": flag_checks.check_all(self.db, self.clock.now())}

    @timer(interval=FLAG_CHECK_INTERVAL_S)
    def check_cashout_flags_on_timer(self):
        try:
            flag_checks.check_all(self.db, self.clock.now(), self.flag_pacing)
        except ClockNotSet:
            return  # a simulation that has not set its clock yet
        except Exception:  # noqa: BLE001 - the next tick tries again
            log.exception("checking the open cash-out flags failed")

    @consume("vouchers_printed")
    def on_vouchers_printed(self, session, event):
        voucher_book.record_printed(session, event.data)

    @consume("voucher_issued")
    def on_voucher_issued(self, session, event):
        voucher_book.record_issued(session, event.data)

    @consume("voucher_voided")
    def on_voucher_voided(self, session, event):
        voucher_book.record_voided(session, event.data)

    @consume("roster_amended")
    def on_roster_amended(self, session, event):
        voucher_book.record_roster_amendment(session, event.data, event.occurred_at)
