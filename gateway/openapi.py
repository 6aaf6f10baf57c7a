"""The OpenAPI description, generated from the route table and its schemas."""

import functools
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from gateway.routing import PUBLIC, ROUTES

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$",
                  "description": "stable English error code"},
        "message": {"type": "string", "minLength": 1,
                    "description": "Chinese message for the user"},
        "details": {"type": "object"},
    },
    "additionalProperties": False,
}

ERROR_RESPONSES = {
    "400": "invalid request: a field, a query parameter or a header",
    "401": "missing or invalid API token",
    "403": "the token's role may not call this operation",
    "404": "not found, or outside the token's township or merchant",
    "409": "conflicts with the current state or with an earlier use of the key",
    "413": "upload too large",
    "422": "rejected by a business rule",
}


@functools.cache
def openapi_document() -> dict:
    spec = APISpec(title="Aixin gateway", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()])
    spec.components.schema("Error", ERROR_SCHEMA)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    paths: dict[str, dict] = {}
    for route in ROUTES:
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.path)
        paths.setdefault(path, {})[route.method.lower()] = _operation(route)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _operation(route) -> dict:
    parameters = [{"name": name, "in": "path", "required": True,
                   "schema": {"type": "string"}}
                  for name in re.findall(r"<(?:\w+:)?(\w+)>", route.path)]
    if route.query:
        # apispec's marshmallow plugin expands the schema into one parameter a field.
        parameters.append({"in": "query", "schema": route.query_schema})
    if route.method != "GET":
        parameters.append({
            "name": "Idempotency-Key", "in": "header",
            "required": route.requires_idempotency_key,
            "description": "unique per operation; a retry with the same key returns "
                           "the first result",
            "schema": {"type": "string"}})
    responses = {str(route.status): _success(route)}
    for status, description in ERROR_RESPONSES.items():
        responses[status] = {"description": description, "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    operation = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": [route.tag],
        "parameters": parameters,
        "responses": responses,
        "x-roles": sorted(route.roles),
    }
    if PUBLIC not in route.roles:
        operation["security"] = [{"bearer": []}]
    if route.body is not None:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": route.body}}}
    if route.upload:
        operation["requestBody"] = {"required": True, "content": {
            "multipart/form-data": {"schema": {"type": "object", "properties": {
                "files": {"type": "array", "items": {"type": "string",
                                                     "format": "binary"}}}}}}}
    return operation


def _success(route) -> dict:
    if route.produces_file:
        return {"description": "a document", "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
    # Reads of one object return an object and listings an array; no route returns a
    # bare string or number.
    return {"description": "OK", "content": {"application/json": {"schema": {
        "oneOf": [{"type": "object"}, {"type": "array"}]}}}}
