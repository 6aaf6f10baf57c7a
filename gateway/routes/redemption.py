"""Redemption at designated merchants, statement matching, audit and cash-out flags."""

from aixin.errors import InvalidInput
from gateway import query
from gateway.routing import route
from gateway.uploads import discarded_if_rejected, save_uploads
from services.redemption import schemas

READERS = {"merchant", "commerce", "finance", "leading_group"}
OVERSIGHT = {"commerce", "finance", "leading_group"}
BASE = "/v1/campaigns/<campaign_id>"


def required_idempotency_key(call) -> str:
    """Return the client's Idempotency-Key, without which a till cannot retry safely."""
    key = call.request.headers.get("Idempotency-Key", "").strip()
    if not key:
        raise InvalidInput("missing_idempotency_key",
                           "缺少幂等键（Idempotency-Key 请求头）：每笔核销请生成唯一的键，"
                           "重试时使用同一个键。")
    return key


@route("POST", f"{BASE}/redemptions", roles={"merchant"}, body=schemas.Redeem,
       status=201, summary="Redeem a voucher against an itemised statement",
       tag="redemption", requires_idempotency_key=True)
def redeem_voucher(call, campaign_id):
    key = required_idempotency_key(call)
    return call.services.redemption_batches.redeem(
        call.services.redemption, call.actor, campaign_id, call.json(), key)


@route("GET", f"{BASE}/redemptions", roles=READERS,
       summary="Redemptions; a merchant sees only its own", tag="redemption",
       query={"merchant_code": query.merchant_code(),
              "date_from": query.day("first day, YYYY-MM-DD"),
              "date_to": query.day("last day, YYYY-MM-DD"),
              "audit_state": query.choice("pending, approved or rejected",
                                          ("pending", "approved", "rejected"))})
def list_redemptions(call, campaign_id):
    filters = {name: call.arg(name) for name in (
        "merchant_code", "date_from", "date_to", "audit_state") if call.arg(name)}
    if "merchant_code" in filters:
        call.require_merchant(filters["merchant_code"])
    return call.services.redemption.list_redemptions(call.actor, campaign_id, **filters)


@route("GET", f"{BASE}/redemptions/<redemption_id>", roles=READERS,
       summary="One redemption with its statement", tag="redemption")
def get_redemption(call, campaign_id, redemption_id):
    return call.services.redemption.get_redemption(call.actor, campaign_id,
                                                   redemption_id)


@route("POST", f"{BASE}/merchants/<merchant_code>/statements",
       roles={"merchant", "commerce"}, upload=True, status=201,
       summary="Upload a till export (form fields period_from, period_to) and "
               "reconcile it", tag="redemption")
def upload_statement(call, campaign_id, merchant_code):
    call.require_merchant(merchant_code)
    files = call.request.files.getlist("files")
    try:
        saved = save_uploads(files)
    finally:
        # werkzeug spools large uploads to temporary files that must be closed.
        for storage in files:
            storage.close()
    # A rejected till export is not kept: only an accepted one stays on disk.
    with discarded_if_rejected(saved):
        if len(saved) != 1:
            raise InvalidInput("one_file_expected",
                               f"收到 {len(saved)} 个文件：每次请只上传一个交易流水文件。")
        payload = {"filename": saved[0]["filename"], "path": saved[0]["path"],
                   "sha256": saved[0]["sha256"],
                   "period_from": call.request.form.get("period_from"),
                   "period_to": call.request.form.get("period_to")}
        return call.services.redemption.upload_statement(
            call.actor, campaign_id, merchant_code, payload, call.idempotency_key)


@route("GET", f"{BASE}/merchants/<merchant_code>/statements",
       roles={"merchant"} | OVERSIGHT, summary="A merchant's uploaded statements",
       tag="redemption")
def list_statements(call, campaign_id, merchant_code):
    call.require_merchant(merchant_code)
    return call.services.redemption.list_statements(call.actor, campaign_id,
                                                    merchant_code)


@route("GET", f"{BASE}/merchants/<merchant_code>/statements/<statement_id>",
       roles={"merchant"} | OVERSIGHT, summary="A statement's reconciliation report",
       tag="redemption")
def get_statement(call, campaign_id, merchant_code, statement_id):
    call.require_merchant(merchant_code)
    return call.services.redemption.get_statement(call.actor, campaign_id,
                                                  merchant_code, statement_id)


@route("POST", f"{BASE}/merchants/<merchant_code>/audits", roles={"commerce"},
       body=schemas.Audit, status=201,
       summary="Audit a merchant's redemptions of a period", tag="redemption")
def audit_redemptions(call, campaign_id, merchant_code):
    return call.services.redemption.audit_redemptions(
        call.actor, campaign_id, merchant_code, call.json(), call.idempotency_key)


@route("GET", f"{BASE}/audits", roles=OVERSIGHT, summary="Recorded audits",
       tag="redemption", query={"merchant_code": query.merchant_code()})
def list_audits(call, campaign_id):
    return call.services.redemption.list_audits(call.actor, campaign_id,
                                                call.arg("merchant_code"))


@route("GET", f"{BASE}/cashout-flags", roles=OVERSIGHT,
       summary="Cash-out flags with their explanations, read before the audit",
       tag="redemption", query={"merchant_code": query.merchant_code()})
def list_cashout_flags(call, campaign_id):
    return call.services.redemption.cashout_flags(call.actor, campaign_id,
                                                  call.arg("merchant_code"))
