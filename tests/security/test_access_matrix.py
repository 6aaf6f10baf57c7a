"""Every gateway operation against every role's token and against another party's.

The test walks the route table, so a new route is covered as soon as it is
registered. For each operation:

- a role the route does not list gets 403 ``forbidden``;
- a township or merchant token asking for another township's or merchant's object
  gets exactly the response it gets for an object that does not exist (403 or 404,
  same code and message), so the response does not reveal whether the object exists;
- the owner and the unscoped roles the route lists pass authorisation;
- every denial leaves a gateway log line with the request's correlation id.

State-changing requests carry a body with an unknown field, so a request that passes
authorisation stops at validation (400) and changes nothing.
"""

import eventlet
import re

import pytest

from gateway import routes  # noqa: F401 - registers every route
from gateway.routing import PUBLIC, ROUTES
from route_requests import (MERCHANT_OBJECTS, PLACEHOLDER_PARAMS, TOWNSHIP_OBJECTS,
                            Requests, path_params)

UNSCOPED_ROLES = ("admin", "commerce", "civil_affairs", "finance", "leading_group")
DENIED = (403, 404)
ID_IN_MESSAGE = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]{11,}")
# Campaign-wide reads whose response legitimately names every township or merchant.
SHARED_READS = {"get_campaign", "reminder_schedule", "whoami", "get_clock",
                "read_inbox"}


def route_id(route) -> str:
    return route.operation_id


def owner_kind(route) -> str | None:
    """Return "township" or "merchant" when the request names such a party's object."""
    names = set(path_params(route)) | set(route.query)
    if names & {"township_code", "account", "township", *TOWNSHIP_OBJECTS}:
        return "township"
    if names & {"merchant_code", *MERCHANT_OBJECTS}:
        return "merchant"
    return None


def without_ids(message: str | None) -> str:
    """Blank out the ids a message repeats from the request, which differ by design."""
    return ID_IN_MESSAGE.sub("<id>", message or "")


def denial_logged(log, response) -> bool:
    """Return whether a warning names the request; give a busy gateway 3 s to log it."""
    request_id = response.headers.get("X-Request-Id", "")
    for _ in range(30):
        if any(request_id in record.getMessage() and record.levelname == "WARNING"
               for record in list(log.records)):
            return True
        eventlet.sleep(0.1)
    return False


def body_of(response) -> dict:
    try:
        return response.json()
    except ValueError:
        return {"content_type": response.headers.get("Content-Type")}


def principals(campaign) -> list[tuple[str, str, str | None]]:
    """Return (name, role, token) of every caller, including no token at all."""
    callers = [(role, role, campaign.tokens[role]) for role in UNSCOPED_ROLES]
    for label in "AB":
        callers.append((f"township {label}", "township",
                        campaign.townships[label].token))
        callers.append((f"merchant {label}", "merchant",
                        campaign.merchants[label].token))
    return callers


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_route_access_matrix(campaign, route, gateway_log):
    builder = Requests(campaign)
    kind = owner_kind(route)
    problems = []

    anonymous = builder.send(route, None, builder.values(kind or "township", "A"))
    if PUBLIC in route.roles:
        assert anonymous.status_code < 500, anonymous.text
        return
    if anonymous.status_code != 401:
        problems.append(f"no token: {anonymous.status_code}, expected 401")

    for name, role, token in principals(campaign):
        label = name[-1] if role in ("township", "merchant") else "A"
        response = builder.send(route, token, builder.values(kind or "township", "A"))
        outcome = f"{name}: {response.status_code} {body_of(response)}"
        if role not in route.roles:
            if response.status_code != 403:
                problems.append(f"{outcome}, expected 403 for a role not allowed")
            elif not denial_logged(gateway_log, response):
                problems.append(f"{name}: role denial not logged")
            continue
        if role == kind and label == "B":
            problems += check_foreign(builder, route, kind, token, name, response,
                                      gateway_log)
            continue
        rejected_statuses = {401, 403, 404}
        if set(path_params(route)) & set(PLACEHOLDER_PARAMS):
            rejected_statuses.discard(404)
        if response.status_code in rejected_statuses or response.status_code >= 500:
            problems.append(f"{outcome}, expected the owner or an unscoped role to "
                            "pass authorisation")
        if role in ("township", "merchant") and label == "B" and kind is None:
            problems += check_no_foreign_data(campaign, route, name, response)
    assert not problems, "\n".join(problems)


def check_foreign(builder, route, kind, token, name, response, log) -> list[str]:
    """Compare party B's responses for A's objects with those for missing objects."""
    problems = []
    missing = builder.send(route, token, builder.values(kind, "C", "missing"))
    problems += compare(f"{name} asking for A's {kind} path", response, missing, log)
    object_params = set(path_params(route)) & set(TOWNSHIP_OBJECTS + MERCHANT_OBJECTS)
    if object_params:
        # B's own scope in the path, but the object ids of party A.
        foreign = builder.send(route, token, builder.values(kind, "B", "A"))
        absent = builder.send(route, token, builder.values(kind, "B", "missing"))
        problems += compare(f"{name} asking for A's {sorted(object_params)} under "
                            "its own path", foreign, absent, log)
    return problems


def compare(what: str, foreign, missing, log) -> list[str]:
    problems = []
    if foreign.status_code not in DENIED:
        problems.append(f"{what}: {foreign.status_code} {body_of(foreign)}, "
                        "expected 403 or 404")
        return problems
    foreign_body, missing_body = body_of(foreign), body_of(missing)
    same = (foreign.status_code == missing.status_code
            and foreign_body.get("error") == missing_body.get("error")
            and without_ids(foreign_body.get("message"))
            == without_ids(missing_body.get("message")))
    if not same:
        problems.append(f"{what}: answer {foreign.status_code} {foreign_body} differs "
                        f"from a missing object's {missing.status_code} {missing_body}")
    if not denial_logged(log, foreign):
        problems.append(f"{what}: denial not logged")
    return problems


def check_no_foreign_data(campaign, route, name, response) -> list[str]:
    """A township's or merchant's campaign-wide read must not show A's objects."""
    if route.operation_id in SHARED_READS or response.status_code >= 400:
        return []
    text = response.text
    township, merchant = campaign.townships["A"], campaign.merchants["A"]
    secrets_of_a = {"township A's serial": township.objects["serial"],
                    "township A's beneficiary": township.objects["beneficiary_id"],
                    "merchant A's redemption": merchant.objects["redemption_id"],
                    "merchant A's statement": merchant.objects["statement_id"]}
    if name.startswith("township"):
        secrets_of_a["township A's code"] = township.code
    else:
        secrets_of_a["merchant A's code"] = merchant.code
    return [f"{name}: {route.operation_id} shows {label}"
            for label, value in secrets_of_a.items() if value and value in text]
