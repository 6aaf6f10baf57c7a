"""Reminders: the caller's inbox, the delivery log and sending what is due."""

from gateway import query
from gateway.routes.admin import ANY_ROLE
from gateway.routing import route

PAGE = {"limit": query.integer("1-500, default 100", 1, 500),
        "offset": query.integer("rows to skip, default 0", 0, 10**9)}
PAGE_QUERY = {"campaign_id": query.text("only this campaign", max_length=64), **PAGE}


@route("GET", "/v1/inbox", roles=ANY_ROLE, tag="notify", query=PAGE_QUERY,
       summary="The caller's reminders, newest first (admin: every inbox)")
def read_inbox(call):
    return call.services.notify.inbox(
        call.actor, call.arg("campaign_id"), call.arg("limit", 100),
        call.arg("offset", 0))


@route("GET", "/v1/reminders/deliveries", roles={"admin", "commerce"}, tag="notify",
       query={"status": query.choice("pending, sending, sent, failed or skipped",
                                     ("pending", "sending", "sent", "failed", "skipped")),
              **PAGE},
       summary="The delivery log of every reminder")
def list_deliveries(call):
    return call.services.notify.deliveries(
        call.actor, call.arg("status"), call.arg("limit", 100), call.arg("offset", 0))


@route("GET", "/v1/campaigns/<campaign_id>/reminders", roles=ANY_ROLE - {"merchant"},
       tag="notify", summary="A campaign's reminder schedule and what was sent")
def reminder_schedule(call, campaign_id):
    return call.services.notify.schedule(call.actor, campaign_id)


@route("POST", "/v1/reminders/send-due", roles={"admin"}, tag="notify",
       summary="Send every reminder due on the campaign clock now")
def send_due_reminders(call):
    return call.services.notify.send_due_reminders()
