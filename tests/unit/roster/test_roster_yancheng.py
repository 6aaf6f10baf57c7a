"""Acceptance: both Yancheng exports imported together give the expected figures."""

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from services.roster.domain.divisions import DivisionIndex
from services.roster.domain.importer import import_roster

DATA = Path(__file__).resolve().parents[2] / "data"
EXPECTED = json.loads((DATA / "yancheng-expected.json").read_text(encoding="utf-8"))


@pytest.fixture(
    scope="module", params=[None, date(2022, 12, 1)], ids=["plain", "snapshot"]
)
def result(request):
    """The import without and with the extra snapshot-month check: same figures."""
    return import_roster(
        [DATA / name for name in EXPECTED["files"]],
        district_code="411103",
        divisions=DivisionIndex.load(),
        snapshot_month=request.param,
    )


class TestYanchengImport:
    def test_row_counts(self, result):
        assert result.rows_read == EXPECTED["rows_read"]
        assert result.accepted_rows == EXPECTED["accepted_rows"]
        assert result.rejected_rows == EXPECTED["rejected_rows"]
        assert result.merged_duplicates == EXPECTED["merged_duplicates"]
        assert result.beneficiary_count == EXPECTED["beneficiaries"]

    def test_each_rejection_reason(self, result):
        assert result.rejected == EXPECTED["rejected"]

    def test_each_township(self, result):
        for code, figures in EXPECTED["townships"].items():
            township = result.townships[code]
            assert township.name == figures["name"]
            assert township.eligible == figures["eligible"]
            assert township.dibao == figures.get("dibao", 0)
            assert township.dispersed == figures.get("dispersed", 0)
            assert township.institutional == figures.get("institutional", 0)
        assert set(result.townships) == set(EXPECTED["townships"])

    def test_summary_is_the_expected_file(self, result):
        assert result.summary() == EXPECTED

    def test_rejections_list_every_rejected_row_once(self, result):
        rows = {(r.file, r.row) for r in result.rejections}
        assert len(rows) == len(result.rejections) == EXPECTED["rejected_rows"]
        assert Counter(r.reason for r in result.rejections) == EXPECTED["rejected"]

    def test_rejections_carry_no_full_id_number(self, result):
        for rejection in result.rejections:
            assert not re.search(r"\d{11}", rejection.value + rejection.message)

    def test_beneficiaries_match_the_figures(self, result):
        beneficiaries = list(result.iter_beneficiaries())
        assert len(beneficiaries) == EXPECTED["beneficiaries"]
        assert len({b.id_number for b in beneficiaries}) == len(beneficiaries)
        institutional = [b for b in beneficiaries if b.support_mode == "institutional"]
        assert all(b.institution and "tekun" in b.categories for b in institutional)
        assert len(institutional) == sum(
            t.get("institutional", 0) for t in EXPECTED["townships"].values()
        )
        in_both_lists = [b for b in beneficiaries if len(b.categories) > 1]
        assert in_both_lists and all("tekun" in b.categories for b in in_both_lists)
