"""The route table: every HTTP operation with its roles, body schema and handler.

The same table drives dispatch, authorisation and the OpenAPI description, so an
operation cannot exist without being described or without declaring who may call it.
"""

from dataclasses import dataclass, field

from marshmallow import Schema
from werkzeug.routing import Map, Rule

from gateway.query import query_schema

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
    # Query parameter name -> marshmallow field (see gateway.query).
    query: dict = field(default_factory=dict)
    query_schema: type[Schema] | None = None
    # The handler rejects a request without an Idempotency-Key header.
    requires_idempotency_key: bool = False

    @property
    def operation_id(self) -> str:
        return self.handler.__name__


ROUTES: list[Route] = []


def route(method: str, path: str, *, roles, summary: str, tag: str, body=None,
          status: int = 200, produces_file: bool = False, upload: bool = False,
          query: dict | None = None, requires_idempotency_key: bool = False):
    """Register an operation. ``roles`` is a set of role names or PUBLIC.

    ``query`` maps each accepted query parameter to a marshmallow field built with
    ``gateway.query``; a request with any other parameter is rejected.
    """
    allowed = frozenset([PUBLIC] if roles == PUBLIC else roles)
    parameters = query or {}

    def register(handler):
        ROUTES.append(Route(method, path, handler, allowed, summary, tag, body, status,
                            produces_file, upload, parameters,
                            query_schema(parameters), requires_idempotency_key))
        return handler

    return register


def build_map() -> Map:
    """Build the URL map; each rule's endpoint is its index in ROUTES."""
    return Map([Rule(r.path, methods=[r.method], endpoint=index)
                for index, r in enumerate(ROUTES)], strict_slashes=False)
