"""Administration: API tokens and, in simulations, the campaign clock."""

from datetime import datetime

from marshmallow import Schema, fields, validate

from aixin.errors import Conflict, InvalidInput
from gateway.routing import route
from gateway.tokens import ROLES, issue_token, revoke_token

ANY_ROLE = set(ROLES)


class TokenRequest(Schema):
    role = fields.String(required=True, validate=validate.OneOf(sorted(ROLES)))
    scope = fields.String(load_default=None, allow_none=True)
    name = fields.String(required=True, validate=validate.Length(1, 120))


class ClockRequest(Schema):
    now = fields.AwareDateTime(required=True)


@route("POST", "/v1/tokens", roles={"admin"}, body=TokenRequest, status=201,
       summary="Issue an API token bound to a role and scope", tag="admin")
def create_token(call):
    payload = call.json()
    with call.services.db.transaction() as session:
        return issue_token(session, payload["role"], payload.get("scope"),
                           payload["name"], call.services.clock.now())


@route("DELETE", "/v1/tokens/<token_id>", roles={"admin"},
       summary="Revoke an API token at once", tag="admin")
def delete_token(call, token_id):
    with call.services.db.transaction() as session:
        revoke_token(session, token_id, call.services.clock.now())
    # Committed: this gateway refuses the token from now on, also if it was cached.
    call.services.tokens.revoked()
    return {"token_id": token_id, "revoked": True}


@route("GET", "/v1/whoami", roles=ANY_ROLE, summary="The caller's role and scope",
       tag="admin")
def whoami(call):
    principal = call.principal
    return {"role": principal.role, "scope": principal.scope, "name": principal.name}


@route("GET", "/v1/clock", roles=ANY_ROLE, summary="The campaign clock", tag="admin")
def get_clock(call):
    clock = call.services.clock
    return {"now": clock.now().isoformat(), "simulated": clock.simulated}


@route("PUT", "/v1/clock", roles={"admin"}, body=ClockRequest,
       summary="Move the simulated campaign clock", tag="admin")
def set_clock(call):
    clock = call.services.clock
    if not clock.simulated:
        raise Conflict("clock_not_simulated",
                       "本系统使用真实时间，不能调整时钟：仅模拟运行（AIXIN_CLOCK=file:...）可调整。")
    text = call.json()["now"]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("invalid_time", f"时间 {text!r} 无效：请使用带时区的 ISO 8601 格式。")
    clock.set(moment)
    return {"now": clock.now().isoformat(), "simulated": True}
