import json
from datetime import date
from pathlib import Path

import pytest

from deploy.sample.generate_roster import generate
from services.roster.domain.divisions import DivisionIndex
from services.roster.domain.importer import import_roster

SAMPLE_DIR = Path(__file__).resolve().parents[3] / "deploy" / "sample"
COMMITTED = {
    "dibao_csv": "yancheng-dibao-sample.csv",
    "tekun_xlsx": "yancheng-tekun-sample.xlsx",
    "expected_json": "yancheng-sample-expected.json",
}
DECEMBER_2022 = date(2022, 12, 1)


def _generate(directory: Path, district="411103", persons=300, seed=5):
    return generate(directory, district, persons, seed, DECEMBER_2022)


def _files(sample) -> dict:
    return {
        "dibao_csv": sample.dibao_csv,
        "tekun_xlsx": sample.tekun_xlsx,
        "expected_json": sample.expected_json,
    }


def _expected(sample) -> dict:
    return json.loads(sample.expected_json.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return _generate(tmp_path_factory.mktemp("sample"))


class TestDeterminism:
    def test_same_seed_same_bytes(self, sample, tmp_path):
        again = _generate(tmp_path)
        for kind, path in _files(sample).items():
            assert path.read_bytes() == _files(again)[kind].read_bytes(), kind

    def test_other_seed_differs(self, sample, tmp_path):
        other = _generate(tmp_path, seed=6)
        assert other.dibao_csv.read_bytes() != sample.dibao_csv.read_bytes()

    def test_committed_sample_reproduced(self, tmp_path):
        fresh = generate(tmp_path, "411103", 1200, 2022, DECEMBER_2022, "yancheng")
        for kind, path in _files(fresh).items():
            committed = SAMPLE_DIR / COMMITTED[kind]
            assert path.read_bytes() == committed.read_bytes(), committed.name

    def test_too_few_persons(self, tmp_path):
        with pytest.raises(ValueError, match="at least"):
            _generate(tmp_path, persons=10)


class TestExpectedFigures:
    def test_rows_add_up(self, sample):
        figures = _expected(sample)
        total = figures["accepted_rows"] + figures["rejected_rows"]
        assert figures["rows_read"] == total

    def test_beneficiaries_add_up(self, sample):
        figures = _expected(sample)
        merged = figures["accepted_rows"] - figures["merged_duplicates"]
        assert figures["beneficiaries"] == merged

    def test_rejected_rows_add_up(self, sample):
        figures = _expected(sample)
        assert figures["rejected_rows"] == sum(figures["rejected"].values())

    def test_townships_add_up(self, sample):
        figures = _expected(sample)
        eligible = sum(t["eligible"] for t in figures["townships"].values())
        assert eligible == figures["beneficiaries"]

    def test_supports_add_up(self, sample):
        for code, township in _expected(sample)["townships"].items():
            supports = sum(
                township.get(key, 0) for key in ("dibao", "dispersed", "institutional")
            )
            assert supports == township["eligible"], code

    def test_townships_of_district(self, sample):
        codes = {t.code for t in DivisionIndex.load().district("411103").townships}
        assert set(_expected(sample)["townships"]) <= codes

    @pytest.mark.parametrize(
        "reason",
        [
            "missing_id",
            "invalid_id_format",
            "invalid_id_birthdate",
            "invalid_id_checksum",
            "unknown_township",
            "missing_institution",
            "conflicting_township",
            "conflicting_name",
        ],
    )
    def test_every_defect_planted(self, sample, reason):
        assert _expected(sample)["rejected"].get(reason, 0) > 0

    def test_duplicates_planted(self, sample):
        assert _expected(sample)["merged_duplicates"] > 0

    def test_file_names(self, sample):
        names = [sample.dibao_csv.name, sample.tekun_xlsx.name]
        assert _expected(sample)["files"] == names


class TestFileShape:
    def test_csv_is_gb18030(self, sample):
        text = sample.dibao_csv.read_bytes().decode("gb18030")
        assert text.startswith("漯河市郾城区2022年12月城乡低保对象花名册")

    def test_csv_ends_with_totals(self, sample):
        text = sample.dibao_csv.read_bytes().decode("gb18030")
        assert text.splitlines()[-1].startswith("合计,")

    def test_csv_has_blank_rows(self, sample):
        text = sample.dibao_csv.read_bytes().decode("gb18030")
        assert ",,,,,,,,,," in text.splitlines()


def _import(sample, district):
    result = import_roster(
        [sample.dibao_csv, sample.tekun_xlsx],
        district_code=district,
        divisions=DivisionIndex.load(),
        snapshot_month=DECEMBER_2022,
    )
    return result.summary()


class TestImportMatchesExpected:
    def test_committed_sample(self):
        sample_files = type(
            "Committed", (), {k: SAMPLE_DIR / v for k, v in COMMITTED.items()}
        )
        summary = _import(sample_files, "411103")
        assert summary == _expected(sample_files)

    def test_generated_sample(self, sample):
        assert _import(sample, "411103") == _expected(sample)

    def test_district_with_chengguan_town(self, tmp_path):
        # 嵩县 (410325) has a real 城关镇, so another unknown name is planted.
        generated = _generate(tmp_path, district="410325", seed=11)
        assert _import(generated, "410325") == _expected(generated)
