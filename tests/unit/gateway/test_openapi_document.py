"""The OpenAPI description: every response described, idempotency keys declared."""

from gateway import routes  # noqa: F401 - registers every route
from gateway.openapi import openapi_document


def operations():
    for path, methods in openapi_document()["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_every_response_has_a_description():
    missing = [(path, method, status)
               for path, method, operation in operations()
               for status, response in operation["responses"].items()
               if not response.get("description")]
    assert missing == []


def test_redemption_requires_idempotency_key():
    redeem = openapi_document()["paths"]["/v1/campaigns/{campaign_id}/redemptions"]
    header = [parameter for parameter in redeem["post"]["parameters"]
              if parameter["name"] == "Idempotency-Key"]
    assert len(header) == 1
    assert header[0]["in"] == "header"
    assert header[0]["required"] is True


def test_other_changes_take_an_optional_key():
    optional = {(path, method) for path, method, operation in operations()
                if method != "get" and any(
                    parameter.get("name") == "Idempotency-Key"
                    and parameter["required"] is False
                    for parameter in operation["parameters"])}
    changes = {(path, method) for path, method, _ in operations() if method != "get"}
    assert changes - optional == {("/v1/campaigns/{campaign_id}/redemptions", "post")}
