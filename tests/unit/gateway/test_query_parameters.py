"""Each route's query parameters are checked by its own schema before the handler."""

import pytest
from werkzeug.datastructures import MultiDict

from aixin.errors import InvalidInput
from gateway import routes  # noqa: F401 - registers every route
from gateway.query import load_query
from gateway.routing import ROUTES

def route_named(name: str):
    return next(route for route in ROUTES if route.operation_id == name)


def checked(name: str, **params) -> dict:
    return load_query(route_named(name).query_schema, MultiDict(params))


def rejected(name: str, pairs) -> InvalidInput:
    with pytest.raises(InvalidInput) as raised:
        load_query(route_named(name).query_schema, MultiDict(pairs))
    assert raised.value.code == "invalid_query"
    assert raised.value.http_status == 400
    return raised.value


class TestAccepted:
    def test_values_are_converted(self):
        assert checked("read_inbox", limit="50", offset="0") == {"limit": 50,
                                                                 "offset": 0}
        assert checked("village_progress", names="true") == {"names": True}

    def test_dates_stay_iso_text(self):
        assert checked("list_redemptions", date_from="2023-01-20") == {
            "date_from": "2023-01-20"}

    def test_absent_parameters_are_absent(self):
        assert checked("weekly_report") == {}


class TestRejected:
    @pytest.mark.parametrize("name, pairs, parameter, fix", [
        ("read_inbox", [("limit", "ten")], "limit", "应为整数"),
        ("read_inbox", [("limit", "0")], "limit", "应在 1 到 500 之间"),
        ("list_redemptions", [("date_from", "2023-02-30")], "date_from",
         "YYYY-MM-DD"),
        ("list_redemptions", [("audit_state", "done")], "audit_state",
         "pending, approved, rejected"),
        ("campaign_summary", [("township", "41110310100")], "township", "12 位数字"),
        ("list_audits", [("merchant_code", "abc")], "merchant_code", "统一社会信用代码"),
        ("district_statement", [("format", "docx")], "format", "xlsx, pdf"),
        ("village_progress", [("names", "yes")], "names", "true 或 false"),
    ])
    def test_invalid_value(self, name, pairs, parameter, fix):
        error = rejected(name, pairs)
        value = pairs[0][1]
        assert f"查询参数 {parameter} 的值 {value!r} 无效" in error.message
        assert fix in error.message
        assert error.details["fields"][0]["field"] == parameter

    def test_unknown_parameter(self):
        error = rejected("campaign_summary", [("townshp", "411103101000")])
        assert "查询参数 townshp（值 '411103101000'）不是该接口接受的查询参数" in (
            error.message)

    def test_route_without_parameters(self):
        error = rejected("list_snapshots", [("limit", "5")])
        assert "查询参数 limit" in error.message

    def test_repeated_parameter(self):
        error = rejected("read_inbox", [("limit", "5"), ("limit", "6")])
        assert "查询参数 limit 出现了 2 次" in error.message

    def test_message_is_chinese(self):
        error = rejected("read_inbox", [("limit", "ten"), ("colour", "red")])
        assert "Not a valid" not in error.message
        assert "Unknown field" not in error.message
