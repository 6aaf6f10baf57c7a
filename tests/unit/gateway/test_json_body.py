"""JSON bodies with U+0000: rejected with the path of the field."""

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from aixin.errors import InvalidInput
from gateway.calls import Call


def call_with(body: bytes) -> Call:
    request = Request(EnvironBuilder(method="POST", path="/v1/x", data=body,
                                     content_type="application/json").get_environ())
    return Call(principal=None, request=request, services=None, correlation_id="c1",
                idempotency_key="k1")


@pytest.mark.parametrize("body, field", [
    (b'{"serial": "01\\u0000"}', "$.serial"),
    (b'{"lines": [{"item": "ok"}, {"item": "a\\u0000b"}]}', "$.lines[1].item"),
    (b'{"a\\u0000": 1}', "$.'a\\x00'"),
])
def test_nul_rejected_with_field_path(body, field):
    with pytest.raises(InvalidInput) as rejected:
        call_with(body).json()
    assert rejected.value.code == "invalid_character"
    assert rejected.value.details["field"] == field
    assert field in rejected.value.message


def test_escaped_backslash_u0000_is_text():
    assert call_with(b'{"note": "\\\\u0000"}').json() == {"note": "\\u0000"}
