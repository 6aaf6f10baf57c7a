"""Issuance by the townships: print, hand out, void, account, and the public page.

A township token reaches only its own township; commerce, finance and the leading
group read every township. The service checks the scope again.
"""

from gateway import query
from gateway.routing import PUBLIC, route
from services.issuance import schemas

BASE = "/v1/campaigns/<campaign_id>/townships/<township_code>"
WRITERS = {"township"}
READERS = {"township", "commerce", "finance", "leading_group"}
TAG = "issuance"


def _issuance(call, township_code):
    call.require_township(township_code)
    return call.services.issuance


@route("POST", f"{BASE}/print-batches", roles=WRITERS, body=schemas.OrderPrintBatch,
       status=201, summary="Order a print run from a designated merchant", tag=TAG)
def order_print_batch(call, campaign_id, township_code):
    return _issuance(call, township_code).order_print_batch(
        call.actor, campaign_id, township_code, call.json(), call.idempotency_key)


@route("GET", f"{BASE}/print-batches", roles=READERS,
       summary="The township's print runs", tag=TAG)
def list_print_batches(call, campaign_id, township_code):
    return _issuance(call, township_code).list_print_batches(
        call.actor, campaign_id, township_code)


@route("GET", f"{BASE}/print-batches/<batch_id>/print-file", roles=WRITERS,
       produces_file=True, summary="The printer's PDF, with check codes", tag=TAG)
def print_file(call, campaign_id, township_code, batch_id):
    return _issuance(call, township_code).print_file(
        call.actor, campaign_id, township_code, batch_id)


@route("GET", f"{BASE}/print-batches/<batch_id>/batch-list", roles=READERS,
       produces_file=True, summary="The batch list XLSX, without check codes", tag=TAG)
def batch_list(call, campaign_id, township_code, batch_id):
    return _issuance(call, township_code).batch_list(
        call.actor, campaign_id, township_code, batch_id)


@route("POST", f"{BASE}/handouts", roles=WRITERS, body=schemas.HandOut, status=201,
       summary="Hand a voucher to a beneficiary or a family member", tag=TAG)
def hand_out(call, campaign_id, township_code):
    return _issuance(call, township_code).hand_out(
        call.actor, campaign_id, township_code, call.json(), call.idempotency_key)


@route("POST", f"{BASE}/institution-collections", roles=WRITERS,
       body=schemas.CollectForInstitution, status=201,
       summary="An institution's manager collects all residents' vouchers", tag=TAG)
def collect_for_institution(call, campaign_id, township_code):
    return _issuance(call, township_code).collect_for_institution(
        call.actor, campaign_id, township_code, call.json(), call.idempotency_key)


@route("POST", f"{BASE}/voids", roles=WRITERS, body=schemas.Void, status=201,
       summary="Void a voucher with a reason", tag=TAG)
def void_voucher(call, campaign_id, township_code):
    return _issuance(call, township_code).void_voucher(
        call.actor, campaign_id, township_code, call.json(), call.idempotency_key)


@route("POST", f"{BASE}/reissues", roles=WRITERS, body=schemas.Reissue, status=201,
       summary="Replace a lost or damaged voucher under a new serial", tag=TAG)
def reissue_voucher(call, campaign_id, township_code):
    return _issuance(call, township_code).reissue_voucher(
        call.actor, campaign_id, township_code, call.json(), call.idempotency_key)


@route("POST", f"{BASE}/end-handout", roles=WRITERS, body=schemas.EndHandout,
       summary="End the hand-out and void unused stock", tag=TAG)
def end_handout(call, campaign_id, township_code):
    return _issuance(call, township_code).end_handout(
        call.actor, campaign_id, township_code, call.json(), call.idempotency_key)


@route("GET", f"{BASE}/progress", roles=READERS,
       summary="Hand-out progress per township, village and institution", tag=TAG)
def progress(call, campaign_id, township_code):
    return _issuance(call, township_code).progress(
        call.actor, campaign_id, township_code)


@route("GET", f"{BASE}/identity-check", roles=READERS,
       summary="Check that every printed voucher is accounted for", tag=TAG)
def check_identities(call, campaign_id, township_code):
    return _issuance(call, township_code).check_identities(
        call.actor, campaign_id, township_code)


@route("GET", f"{BASE}/beneficiaries", roles=READERS,
       summary="Find beneficiaries by name, village or masked ID number", tag=TAG,
       query={"name": query.text("part of the name"),
              "village": query.text("the village, exactly"),
              "masked_id": query.pattern(
                  "masked ID number such as 411103********1234",
                  r"^[0-9]{6}\*{4,8}[0-9]{3}[0-9X]$",
                  "应为打码的身份证号，例如 411103********1234")})
def search_beneficiaries(call, campaign_id, township_code):
    return _issuance(call, township_code).search_beneficiaries(
        call.actor, campaign_id, township_code, name=call.arg("name"),
        village=call.arg("village"), masked_id=call.arg("masked_id"))


@route("GET", f"{BASE}/vouchers/<serial>", roles=READERS,
       summary="One voucher with its holder and history", tag=TAG)
def get_voucher(call, campaign_id, township_code, serial):
    return _issuance(call, township_code).get_voucher(
        call.actor, campaign_id, township_code, serial)


@route("GET", f"{BASE}/sign-off-sheets", roles=READERS, produces_file=True,
       summary="Sign-off sheet of a village or an institution", tag=TAG,
       query={"village": query.text("the village"),
              "institution": query.text("the institution"),
              "format": query.file_format("pdf")})
def sign_off_sheet(call, campaign_id, township_code):
    return _issuance(call, township_code).sign_off_sheet(
        call.actor, campaign_id, township_code, village=call.arg("village"),
        institution=call.arg("institution"), file_format=call.arg("format", "pdf"))


@route("GET", "/v1/public/vouchers/<serial>", roles=PUBLIC,
       summary="Public state of a voucher, by serial and check code", tag=TAG,
       query={"check_code": query.text(
           "the 8-character check code printed on the voucher", max_length=40)})
def public_voucher(call, serial):
    return call.services.issuance.public_voucher(serial, call.arg("check_code", ""))
