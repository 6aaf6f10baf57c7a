"""Operations: the messages each service's consumers parked, and replaying them."""

from aixin.errors import InvalidInput, NotFound
from gateway import query
from gateway.routing import route

PARKING_SERVICES = ("roster", "issuance", "redemption", "settlement", "reporting",
                    "notify")


def _service(call, name):
    if name not in PARKING_SERVICES:
        raise InvalidInput("unknown_service",
                           f"服务 {name!r} 不存在：请使用 {', '.join(PARKING_SERVICES)} 之一。")
    return getattr(call.services, name)


@route("GET", "/v1/admin/parked", roles={"admin"},
       summary="Messages a service's consumers parked, with their reasons", tag="admin",
       query={"service": query.choice("the service; all services when absent",
                                      PARKING_SERVICES),
              "include_replayed": query.flag("true to list replayed messages too")})
def list_parked(call):
    include_replayed = call.arg("include_replayed", False)
    name = call.arg("service")
    names = [name] if name else list(PARKING_SERVICES)
    parked = []
    for service in names:
        for row in _service(call, service).list_parked(include_replayed=include_replayed):
            parked.append({"service": service, **row})
    return {"parked": parked}


@route("POST", "/v1/admin/parked/<service>/<int:parked_id>/replay", roles={"admin"},
       summary="Apply a parked message again through its handler", tag="admin")
def replay_parked(call, service, parked_id):
    result = _service(call, service).replay_parked(parked_id)
    if result["outcome"] == "not_found":
        raise NotFound("parked_message_not_found",
                       f"未找到 {service} 服务中编号为 {parked_id} 的搁置消息。")
    return {"service": service, **result}
