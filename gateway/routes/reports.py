"""Reports from the reporting read model: summaries, weekly and joint reports."""

from gateway import query
from gateway.routing import route

READERS = {"commerce", "finance", "civil_affairs", "leading_group", "township", "admin"}
TOWNSHIP_QUERY = {"township": query.township(
    "12-digit township code; a township token sees its own")}


def _township_filter(call):
    """Return the township a township token is bound to, or the requested one."""
    requested = call.arg("township")
    if requested:
        call.require_township(requested)
    return requested


@route("GET", "/v1/campaigns/<campaign_id>/summary", roles=READERS, tag="reports",
       query=TOWNSHIP_QUERY,
       summary="Per-township figures of a campaign with district totals")
def campaign_summary(call, campaign_id):
    return call.services.reporting.campaign_summary(
        call.actor, campaign_id, _township_filter(call))


@route("GET", "/v1/campaigns/<campaign_id>/townships/<township_code>/villages",
       roles=READERS, tag="reports",
       query={"names": query.flag("true to list unredeemed persons")},
       summary="Per-village hand-out and redemption figures of a township")
def village_progress(call, campaign_id, township_code):
    call.require_township(township_code)
    return call.services.reporting.village_progress(
        call.actor, campaign_id, township_code, call.arg("names", False))


@route("GET", "/v1/campaigns/<campaign_id>/timeseries", roles=READERS, tag="reports",
       query=TOWNSHIP_QUERY, summary="Daily hand-outs, voids and redemptions")
def time_series(call, campaign_id):
    return call.services.reporting.time_series(
        call.actor, campaign_id, _township_filter(call))


WEEKLY_QUERY = {"monday": query.day("the Monday the report is due (YYYY-MM-DD), "
                                    "default the latest Monday"), **TOWNSHIP_QUERY}


@route("GET", "/v1/campaigns/<campaign_id>/reports/weekly", roles=READERS,
       tag="reports", query=WEEKLY_QUERY,
       summary="Monday weekly report: last week's and cumulative figures")
def weekly_report(call, campaign_id):
    return call.services.reporting.weekly_report(
        call.actor, campaign_id, call.arg("monday"), _township_filter(call))


@route("GET", "/v1/campaigns/<campaign_id>/reports/weekly.xlsx", roles=READERS,
       tag="reports", query=WEEKLY_QUERY, produces_file=True,
       summary="Monday weekly report as XLSX")
def weekly_report_xlsx(call, campaign_id):
    return call.services.reporting.weekly_report_xlsx(
        call.actor, campaign_id, call.arg("monday"), _township_filter(call))


JOINT_QUERY = {"as_of": query.day("the date the figures are reported at (YYYY-MM-DD), "
                                  "default today on the campaign clock")}


@route("GET", "/v1/campaigns/<campaign_id>/reports/joint", roles=READERS,
       tag="reports", query=JOINT_QUERY,
       summary="Joint report of commerce, finance and civil affairs")
def joint_report(call, campaign_id):
    return call.services.reporting.joint_report(call.actor, campaign_id,
                                                call.arg("as_of"))


@route("GET", "/v1/campaigns/<campaign_id>/reports/joint.xlsx", roles=READERS,
       tag="reports", query=JOINT_QUERY, produces_file=True,
       summary="Joint report as XLSX")
def joint_report_xlsx(call, campaign_id):
    return call.services.reporting.joint_report_document(
        call.actor, campaign_id, "xlsx", call.arg("as_of"))


@route("GET", "/v1/campaigns/<campaign_id>/reports/joint.pdf", roles=READERS,
       tag="reports", query=JOINT_QUERY, produces_file=True,
       summary="Joint report as PDF")
def joint_report_pdf(call, campaign_id):
    return call.services.reporting.joint_report_document(
        call.actor, campaign_id, "pdf", call.arg("as_of"))


@route("POST", "/v1/reporting/rebuild", roles={"admin"}, tag="reports",
       summary="Rebuild the reporting read model from its event log")
def rebuild_reports(call):
    return call.services.reporting.rebuild(call.actor)
