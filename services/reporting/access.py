"""Who may read which figures: bureaus read everything, a township its own."""

from aixin.errors import Forbidden, NotFound

READ_ALL_ROLES = {"commerce", "finance", "civil_affairs", "leading_group", "admin",
                  "system"}


def township_scope(actor: dict, township_code: str | None) -> str | None:
    """Return the township the caller may read: ``township_code``, or its own.

    A township token reading another township is told the object does not exist,
    the same answer as the gateway gives.
    """
    role = actor.get("role")
    if role in READ_ALL_ROLES:
        return township_code or None
    if role == "township":
        own = actor.get("scope")
        if township_code and township_code != own:
            raise NotFound("not_found", "未找到该对象，或您无权访问。")
        return own
    raise Forbidden("forbidden", "您的角色无权查看报表。", role=role)
