"""Validation errors are Chinese and name the field, its value and the fix."""

import re

import pytest
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from aixin.errors import InvalidInput
from aixin.validation import MESSAGES, load, translate
from gateway.routes.admin import ClockRequest, TokenRequest
from services.issuance.schemas import CollectForInstitution
from services.redemption.schemas import CreateCampaign, DesignateMerchant
from services.roster.schemas import Amendment

# A run of Latin letters as in marshmallow's messages ("Not a valid integer").
ENGLISH_WORDS = re.compile(r"[A-Za-z]{3,}(?: [A-Za-z]{2,}){2,}")


class Every(Schema):
    """One field of each kind the API schemas use."""

    class Meta:
        unknown = RAISE

    count = fields.Integer(strict=True, required=True,
                           validate=validate.Range(1, 10))
    name = fields.String(required=True, validate=validate.Length(1, 5))
    kind = fields.String(validate=validate.OneOf(["a", "b"]))
    day = fields.Date()
    moment = fields.AwareDateTime()
    flag = fields.Boolean()
    codes = fields.List(fields.String(validate=validate.Regexp(r"^\d$")))
    limits = fields.Dict(keys=fields.String(validate=validate.OneOf(["x"])),
                         values=fields.Integer(validate=validate.Range(min=0)))
    nested = fields.Nested(TokenRequest)
    code = fields.String(validate=validate.Length(equal=3), allow_none=False)


def rejected(schema, payload) -> InvalidInput:
    with pytest.raises(InvalidInput) as raised:
        load(schema, payload)
    return raised.value


def by_field(error: InvalidInput) -> dict:
    return {entry["field"]: entry for entry in error.details["fields"]}


class TestMessages:
    def test_every_kind_is_chinese(self):
        error = rejected(Every(), {
            "count": "3个", "name": "toolong", "kind": "c", "day": "2023-02-30",
            "moment": "2023-01-05T09:00:00", "flag": "maybe", "codes": ["x"],
            "limits": {"y": -1}, "nested": {"role": "boss"}, "code": None,
            "extra": 1})
        assert error.code == "invalid_request"
        assert ENGLISH_WORDS.search(error.message) is None, error.message
        for entry in error.details["fields"]:
            assert ENGLISH_WORDS.search(entry["message"]) is None, entry

    def test_field_value_and_fix(self):
        error = rejected(Every(), {"count": "3个", "name": "张三"})
        entry = by_field(error)["count"]
        assert entry["message"] == ("字段 count 的值 '3个' 无效：应为整数（例如 30000），"
                                    "不带引号、小数点或单位")
        assert entry["value"] == "'3个'"
        assert entry["problems"] == ["Not a valid integer."]
        assert entry["message"] in error.message
        assert error.message.endswith("请按提示修改后重新提交。")

    def test_missing_field(self):
        error = rejected(Every(), {"count": 3})
        assert by_field(error)["name"]["message"] == "缺少必填字段 name：请填写该字段"

    def test_unknown_field(self):
        error = rejected(Every(), {"count": 3, "name": "a", "colour": "red"})
        message = by_field(error)["colour"]["message"]
        assert message == "字段 colour（值 'red'）不是该接口接受的字段：请删除它或核对拼写"

    def test_limits_are_named(self):
        error = rejected(Every(), {"count": 11, "name": "toolong", "code": "ab"})
        fields_ = by_field(error)
        assert "应在 1 到 10 之间" in fields_["count"]["message"]
        assert "长度应在 1 到 5 之间" in fields_["name"]["message"]
        assert "长度应恰好为 3" in fields_["code"]["message"]

    def test_choices_are_listed(self):
        error = rejected(Every(), {"count": 1, "name": "a", "kind": "c"})
        assert "应为以下值之一：a, b" in by_field(error)["kind"]["message"]

    def test_nested_and_list_paths(self):
        error = rejected(Every(), {"count": 1, "name": "a", "codes": ["1", "x"],
                                   "nested": {"role": "boss", "name": "n"}})
        fields_ = by_field(error)
        assert "字段 codes.1 的值 'x' 无效" in fields_["codes.1"]["message"]
        assert "字段 nested.role 的值 'boss' 无效" in fields_["nested.role"]["message"]

    def test_mapping_key_and_value(self):
        error = rejected(Every(), {"count": 1, "name": "a", "limits": {"y": -1}})
        key, value = [entry["message"] for entry in error.details["fields"]]
        assert key == "字段 limits.y 的键 'y' 无效：应为以下值之一：x"
        assert value == "字段 limits.y 的值 -1 无效：应不小于 0"

    def test_nested_object_type(self):
        error = rejected(Every(), {"count": 1, "name": "a", "nested": "admin"})
        assert by_field(error)["nested"]["message"] == (
            "字段 nested 的值 'admin' 无效：应为 JSON 对象")

    def test_schema_message_kept(self):
        error = rejected(Amendment(), {"kind": "add", "reason": "wrongly_omitted"})
        assert "增补（add）须填写 person" in by_field(error)["person"]["message"]

    def test_every_template_translates(self):
        for english in MESSAGES:
            filled = english.format(choices="a, b", min=1, max=2, equal=3, other=4)
            assert ENGLISH_WORDS.search(translate(filled)) is None, english

    def test_untranslated_english_is_hidden(self):
        assert translate("Some brand new marshmallow message.") == "不符合要求"


@pytest.mark.parametrize("schema, payload, field", [
    (CreateCampaign(), {"district_code": "41110"}, "district_code"),
    (CreateCampaign(), {"snapshot_month": "2022-13"}, "snapshot_month"),
    (DesignateMerchant(), {"opening_hours": "8-22"}, "opening_hours"),
    (DesignateMerchant(), {"township_codes": ["4111"]}, "township_codes.0"),
    (CollectForInstitution(), {"manager_masked_id": "1"}, "manager_masked_id"),
    (CollectForInstitution(), {"manager_phone": "abc"}, "manager_phone"),
    (ClockRequest(), {"now": "2023-01-05T09:00:00"}, "now"),
])
def test_api_schema_field_is_chinese(schema, payload, field):
    error = rejected(schema, payload)
    message = by_field(error)[field]["message"]
    assert ENGLISH_WORDS.search(message) is None, message
    assert "格式不正确" not in message


def test_consumer_error_is_untouched():
    """Events keep marshmallow's own messages: only ``load`` translates."""
    with pytest.raises(ValidationError) as raised:
        Every().load({"count": "x", "name": "a"})
    assert raised.value.messages == {"count": ["Not a valid integer."]}
