"""The fast beneficiary list of roster_published loads exactly as the nested schema.

``events.BeneficiaryList`` skips marshmallow for records that are obviously valid.
These tests compare it with ``List(Nested(Beneficiary))`` on valid and broken
records: the same data, or the same error messages naming the index and field.
"""

from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields

from aixin import events
from aixin.consumer import parse_event
from aixin.outbox import EventValidationError, build_event


class NestedOnly(Schema):
    """The schema as it was: every record through the nested Beneficiary schema."""

    beneficiaries = fields.List(fields.Nested(events.Beneficiary), required=True)


class FastList(Schema):
    beneficiaries = events.BeneficiaryList(required=True)


VALID = {
    "beneficiary_id": "0123456789abcdef0123", "name": "张三",
    "masked_id": "411103********1234", "township_code": "411103100000",
    "township_name": "城关镇", "village": "东村", "categories": ["rural_dibao"],
    "support_mode": "dispersed", "institution": None,
}
FIELDS = list(VALID)
ODD_VALUES = [None, "", "x", 5, 1.5, True, b"abc", b"\xff", [], ["tekun"], ("tekun",),
              ["tekun", "urban_dibao"], ["nope"], [1], {"a": 1},
              "411103********123X", "411103********1234\n", "41110310000",
              "411103100000", "４１１１０３１０００００", "institutional", "dispersed",
              "tekun"]


def outcome(schema: Schema, data: dict):
    try:
        return "loaded", schema.load(data)
    except ValidationError as error:
        return "invalid", error.messages


def assert_same(records):
    data = {"beneficiaries": records}
    assert outcome(FastList(), data) == outcome(NestedOnly(), data)
    assert FastList().validate(data) == NestedOnly().validate(data)


record_changes = st.dictionaries(
    st.sampled_from(FIELDS + ["extra"]),
    st.one_of(st.sampled_from(ODD_VALUES), st.just("__missing__"),
              st.text(max_size=20)),
    max_size=3)


def changed(changes: dict) -> dict:
    record = dict(VALID)
    for key, value in changes.items():
        if value == "__missing__":
            record.pop(key, None)
        else:
            record[key] = value
    return record


class TestBeneficiaryList:
    def test_valid_records_load_as_with_the_nested_schema(self):
        records = [VALID, {**VALID, "village": None, "institution": "敬老院",
                           "support_mode": "institutional", "categories": []},
                   {key: value for key, value in VALID.items() if key != "institution"},
                   {**VALID, "unknown_field": 1}]
        assert_same(records)
        loaded = FastList().load({"beneficiaries": records})["beneficiaries"]
        assert loaded[2]["institution"] is None
        assert "unknown_field" not in loaded[3]

    @pytest.mark.parametrize("records", [None, "abc", {"a": 1}, ["not a record"], [],
                                         (VALID,), [VALID, 5]])
    def test_odd_lists_are_reported_as_before(self, records):
        assert_same(records)

    def test_unknown_field_is_dropped(self):
        record = {key: value for key, value in VALID.items() if key != "institution"}
        record["unknown_field"] = 1
        assert_same([record])
        loaded = FastList().load({"beneficiaries": [record]})["beneficiaries"][0]
        assert loaded["institution"] is None
        assert "unknown_field" not in loaded

    def test_invalid_record_names_its_index_and_field(self):
        messages = outcome(FastList(), {"beneficiaries": [
            VALID, {**VALID, "masked_id": "bad"}]})[1]
        assert messages == {"beneficiaries": {1: {"masked_id": [
            "String does not match expected pattern."]}}}

    @settings(max_examples=400, deadline=None)
    @given(st.lists(record_changes, max_size=4))
    def test_any_records_load_as_with_the_nested_schema(self, changes):
        assert_same([changed(change) for change in changes])

    def test_invalid_record_rejected_at_both_ends(self):
        data = {"campaign_id": "c", "snapshot_id": "s", "batch_no": 1,
                "batch_count": 1, "beneficiaries": [{**VALID, "township_code": "1"}]}
        with pytest.raises(EventValidationError, match="township code must be 12"):
            build_event("roster_published", data, _now())
        envelope = {"id": "e1", "type": "roster_published",
                    "occurred_at": _now().isoformat(), "data": data}
        with pytest.raises(ValueError, match="beneficiaries.*township_code"):
            parse_event("roster_published", envelope)


def _now():
    return datetime(2023, 1, 5, 9, tzinfo=timezone.utc)
