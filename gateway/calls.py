"""The context of one routed request: the caller, the request and the services."""

import functools
import json
from dataclasses import dataclass

from aixin.errors import InvalidInput, NotFound
from aixin.validation import load

TOWNSHIP_WIDE_ROLES = {"commerce", "civil_affairs", "finance", "leading_group", "admin"}


@dataclass
class Call:
    principal: object  # tokens.Principal, or None on public routes
    request: object  # werkzeug Request
    services: object  # the gateway service instance with its RPC proxies
    correlation_id: str
    idempotency_key: str
    body_schema: object = None
    query: dict | None = None  # checked query parameters, see gateway.query

    @property
    def actor(self) -> dict:
        if self.principal is None:
            return {"role": "public", "scope": None, "name": "public",
                    "token_id": None, "correlation_id": self.correlation_id}
        return self.principal.as_actor(self.correlation_id)

    def json(self) -> dict:
        """Return the JSON body, validated by the route's schema when it has one."""
        data = self.request.get_data(cache=True) or b"{}"
        try:
            payload = json.loads(data)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise InvalidInput("invalid_json",
                               "请求内容不是有效的 JSON：请检查格式后重新提交。") from None
        # PostgreSQL cannot store U+0000 in text, so it would fail deep in a service.
        if b"\\u0000" in data and _contains_nul(payload):
            raise InvalidInput("invalid_character",
                               "请求内容含有空字符（\\u0000）：请删除后重新提交。")
        if self.body_schema is not None:
            load(_schema(self.body_schema), payload)
        return payload

    def arg(self, name: str, default=None):
        """Return a query parameter as its route's schema loaded it, or ``default``."""
        return (self.query or {}).get(name, default)

    def require_township(self, township_code: str) -> None:
        """Reject a township token for another township, as if the object did not exist."""
        if self.principal is None or self.principal.role in TOWNSHIP_WIDE_ROLES:
            return
        if self.principal.role == "township" and self.principal.scope == township_code:
            return
        raise NotFound("not_found", "未找到该对象，或您无权访问。")

    def require_merchant(self, merchant_code: str) -> None:
        if self.principal is None or self.principal.role in TOWNSHIP_WIDE_ROLES:
            return
        if self.principal.role == "merchant" and self.principal.scope == merchant_code:
            return
        raise NotFound("not_found", "未找到该对象，或您无权访问。")


@functools.cache
def _schema(schema_class):
    """Return one shared instance per body schema: building costs more than loading."""
    return schema_class()


def _contains_nul(value) -> bool:
    """Tell whether a string in the JSON value ``value``, key or item, contains U+0000."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(key) or _contains_nul(item)
                   for key, item in value.items())
    if isinstance(value, list):
        return any(_contains_nul(item) for item in value)
    return False
