"""The roster: civil affairs imports, reviews, publishes and corrects it."""

from gateway import query
from gateway.routing import route
from gateway.uploads import save_uploads
from services.roster import schemas

BASE = "/v1/campaigns/<campaign_id>/roster"
REPORT_READERS = {"civil_affairs", "commerce", "finance", "leading_group"}
LIST_READERS = {"civil_affairs", "township", "leading_group"}
NOTICE_READERS = {"civil_affairs", "township", "commerce", "finance", "leading_group"}


@route("POST", f"{BASE}/imports", roles={"civil_affairs"}, upload=True, status=201,
       summary="Import roster files (form field files) as one draft snapshot",
       tag="roster")
def import_roster(call, campaign_id):
    saved = _save(call)
    return call.services.roster.import_roster(
        call.actor, campaign_id, {"files": saved}, call.idempotency_key)


@route("GET", f"{BASE}/snapshots", roles=REPORT_READERS,
       summary="The campaign's roster snapshots with their figures", tag="roster")
def list_snapshots(call, campaign_id):
    return call.services.roster.list_snapshots(call.actor, campaign_id)


@route("GET", f"{BASE}/snapshots/<snapshot_id>/report", roles=REPORT_READERS,
       summary="An import report with its rejected rows", tag="roster",
       query={"offset": query.integer("first rejected row to return, from 0",
                                     0, 10**9),
              "limit": query.integer(
                  "rejected rows to return, at most 10000 (default 1000)", 0, 10000)})
def get_import_report(call, campaign_id, snapshot_id):
    return call.services.roster.get_import_report(
        call.actor, campaign_id, snapshot_id, call.arg("offset", 0),
        call.arg("limit", 1000))


@route("GET", f"{BASE}/snapshots/<snapshot_id>/report.xlsx", roles=REPORT_READERS,
       produces_file=True, summary="An import report as XLSX", tag="roster")
def get_import_report_xlsx(call, campaign_id, snapshot_id):
    return call.services.roster.import_report_xlsx(call.actor, campaign_id, snapshot_id)


@route("POST", f"{BASE}/snapshots/<snapshot_id>/publish", roles={"civil_affairs"},
       summary="Publish a reviewed snapshot to every bureau", tag="roster")
def publish_roster(call, campaign_id, snapshot_id):
    return call.services.roster.publish(
        call.actor, campaign_id, snapshot_id, {}, call.idempotency_key)


@route("POST", f"{BASE}/amendments", roles={"civil_affairs"}, body=schemas.Amendment,
       status=201, summary="Remove, add or change one person after publication",
       tag="roster")
def amend_roster(call, campaign_id):
    return call.services.roster.amend(
        call.actor, campaign_id, call.json(), call.idempotency_key)


@route("GET", f"{BASE}/amendments", roles=REPORT_READERS,
       summary="Amendments and death reviews of the current snapshot", tag="roster")
def list_amendments(call, campaign_id):
    return call.services.roster.list_amendments(call.actor, campaign_id)


@route("POST", f"{BASE}/deaths", roles={"civil_affairs"}, upload=True,
       summary="Apply death registrations (ID number and date of death)",
       tag="roster", query={"snapshot_id": query.text(
           "snapshot to apply to (default current)", max_length=64)})
def register_deaths(call, campaign_id):
    saved = _save(call)
    return call.services.roster.register_deaths(
        call.actor, campaign_id,
        {"files": saved, "snapshot_id": call.arg("snapshot_id")},
        call.idempotency_key)


@route("GET", f"{BASE}/townships/<township_code>/beneficiaries", roles=LIST_READERS,
       summary="A township's beneficiaries, ID numbers masked", tag="roster",
       query={"village": query.text("only this village"),
              "snapshot_id": query.text("default current", max_length=64),
              "original": query.flag(
                  "true: the snapshot as imported, without amendments")})
def list_beneficiaries(call, campaign_id, township_code):
    call.require_township(township_code)
    return call.services.roster.list_beneficiaries(
        call.actor, campaign_id, township_code, call.arg("village"),
        call.arg("snapshot_id"), call.arg("original", False))


@route("GET", f"{BASE}/beneficiaries/<beneficiary_id>/id-number",
       roles={"civil_affairs"}, summary="One person's full ID number (audit-logged)",
       tag="roster", query={"reason": query.text("why the full number is needed")})
def reveal_id_number(call, campaign_id, beneficiary_id):
    return call.services.roster.reveal_id_number(
        call.actor, campaign_id, beneficiary_id, call.arg("reason"))


@route("GET", f"{BASE}/townships/<township_code>/notice.xlsx", roles=NOTICE_READERS,
       produces_file=True, summary="Public notice (公示) list as XLSX", tag="roster",
       query={"village": query.text("only this village")})
def notice_xlsx(call, campaign_id, township_code):
    call.require_township(township_code)
    return call.services.roster.public_notice(
        call.actor, campaign_id, township_code, "xlsx", call.arg("village"))


@route("GET", f"{BASE}/townships/<township_code>/notice.pdf", roles=NOTICE_READERS,
       produces_file=True, summary="Public notice (公示) list as PDF", tag="roster",
       query={"village": query.text("only this village")})
def notice_pdf(call, campaign_id, township_code):
    call.require_township(township_code)
    return call.services.roster.public_notice(
        call.actor, campaign_id, township_code, "pdf", call.arg("village"))


def _save(call) -> list[dict]:
    """Store the uploaded files, then close werkzeug's temporary copies."""
    files = call.request.files.getlist("files")
    try:
        return save_uploads(files)
    finally:
        for storage in files:
            storage.close()
