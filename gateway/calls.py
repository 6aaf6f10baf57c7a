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
        where = _nul_path(payload) if b"\\u0000" in data else None
        if where is not None:
            raise InvalidInput("invalid_character",
                               f"字段 {where} 含有空字符（\\u0000）：请删除后重新提交。",
                               field=where)
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


def _nul_path(value, path: str = "$") -> str | None:
    """Return the JSON path of the first key or string in ``value`` that contains
    U+0000, such as ``$.lines[0].item``, or None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return f"{path}.{key!r}"
            found = _nul_path(item, f"{path}.{key}")
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None
