"""The route table: every HTTP operation with its roles, body schema and handler.

The same table drives dispatch, authorisation and the OpenAPI description, so an
operation cannot exist without being described or without declaring who may call it.
"""

from dataclasses import dataclass, field

from marshmallow import Schema
from werkzeug.routing import Map, Rule

PUBLIC = "public"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: object
    roles: frozenset
    summary: str
    tag: str
    body: type[Schema] | None = None
    status: int = 200
    produces_file: bool = False
    upload: bool = False
    query: dict = field(default_factory=dict)

    @property
    def operation_id(self) -> str:
        return self.handler.__name__


ROUTES: list[Route] = []


def route(method: str, path: str, *, roles, summary: str, tag: str, body=None,
          status: int = 200, produces_file: bool = False, upload: bool = False,
          query: dict | None = None):
    """Register an operation. ``roles`` is a set of role names or PUBLIC."""
    allowed = frozenset([PUBLIC] if roles == PUBLIC else roles)

    def register(handler):
        ROUTES.append(Route(method, path, handler, allowed, summary, tag, body, status,
                            produces_file, upload, query or {}))
        return handler

    return register


def build_map() -> Map:
    """Build the URL map; each rule's endpoint is its index in ROUTES."""
    return Map([Rule(r.path, methods=[r.method], endpoint=index)
                for index, r in enumerate(ROUTES)], strict_slashes=False)
