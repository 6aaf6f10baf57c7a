import re
import tracemalloc
from datetime import date, timedelta

import pytest
from roster_tables import (
    YANCHENG_CODE,
    YANCHENG_TOWNSHIPS,
    FakeDivisions,
    make_id,
    write_csv,
    write_xlsx,
)

from services.roster.domain.divisions import Township
from services.roster.domain.importer import RosterImport, import_roster
from services.roster.domain.readers import (
    CATEGORY,
    ID_NUMBER,
    NAME,
    TOWNSHIP,
    VILLAGE,
    Layout,
    RosterRow,
)

DIBAO_HEADER = ["序号", "姓名", "身份证号码", "保障类别", "乡镇（街道）", "村（社区）"]
TEKUN_HEADER = [
    "序号",
    "姓名",
    "公民身份号码",
    "供养方式",
    "供养机构",
    "所属乡镇",
    "所在村（居）",
]
ZHANG = make_id("19800101", 1)
LI = make_id("19500505", 2)
WANG = make_id("19400101", 3)


def dibao(name="张三", id_number=ZHANG, category="农村低保", township="商桥镇"):
    return ["1", name, id_number, category, township, "袁湾村"]


def tekun(
    name="张三", id_number=ZHANG, mode="分散供养", institution=None, township="商桥镇"
):
    return [1, name, id_number, mode, institution, township, "袁湾村"]


@pytest.fixture
def run(tmp_path):
    """Import a dibao CSV and optionally a tekun XLSX built from data rows."""

    def run(dibao_rows=(), tekun_rows=(), snapshot_month=None, divisions=None):
        paths = []
        if dibao_rows:
            rows = [["低保花名册"], DIBAO_HEADER, *dibao_rows, ["合计"]]
            paths.append(write_csv(tmp_path / "dibao.csv", rows))
        if tekun_rows:
            rows = [["特困人员花名册"], TEKUN_HEADER, *tekun_rows]
            paths.append(write_xlsx(tmp_path / "tekun.xlsx", rows))
        result = import_roster(
            paths,
            district_code=YANCHENG_CODE,
            divisions=divisions or FakeDivisions(),
            snapshot_month=snapshot_month,
        )
        assert result.rows_read == result.accepted_rows + result.rejected_rows
        assert (
            result.beneficiary_count == result.accepted_rows - result.merged_duplicates
        )
        assert result.beneficiary_count == len(result.beneficiaries)
        return result

    return run


def reasons(result):
    return [(r.row, r.reason) for r in result.rejections]


class TestNormalising:
    def test_id_number_spacing_is_normalised(self, run):
        x_id = make_id("19800101", 9)
        while not x_id.endswith("X"):
            x_id = make_id("19800101", int(x_id[14:17]) + 1)
        full_width = ZHANG.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
        result = run(
            [
                dibao(" 张三\u3000", f"\u3000{full_width} "),
                dibao("李四", x_id.lower(), township=" 商桥镇\u3000"),
            ]
        )
        assert result.rejected == {}
        assert [b.id_number for b in result.beneficiaries] == [ZHANG, x_id]
        assert result.beneficiaries[0].name == "张三"

    def test_old_15_digit_number_is_upgraded(self, run):
        id15 = ZHANG[:6] + ZHANG[8:17]
        [person] = run([dibao(id_number=id15)]).beneficiaries
        assert person.id_number == ZHANG

    def test_middle_dot_is_part_of_the_name(self, run):
        result = run([dibao("买买提·艾力"), dibao("买买提•艾力")])
        assert result.merged_duplicates == 1
        assert result.beneficiaries[0].name == "买买提·艾力"


class TestRowChecks:
    @pytest.mark.parametrize(
        "id_number, reason",
        [
            ("", "missing_id"),
            ("\u3000", "missing_id"),
            ("4.11103E+17", "invalid_id_format"),
            (ZHANG[:-1], "invalid_id_format"),
            (ZHANG[:6] + "A" + ZHANG[7:], "invalid_id_format"),
            (ZHANG[:6] + ZHANG[8:17] + "X", "invalid_id_format"),
            (make_id("19800230"), "invalid_id_birthdate"),
            (ZHANG[:17] + ("0" if ZHANG[17] != "0" else "1"), "invalid_id_checksum"),
        ],
    )
    def test_id_number_defects(self, run, id_number, reason):
        assert reasons(run([dibao(id_number=id_number)])) == [(3, reason)]

    def test_number_cell_is_rejected(self, run):
        result = run(tekun_rows=[tekun(id_number=int(ZHANG[:17] + "0"))])
        [rejection] = result.rejections
        assert rejection.reason == "invalid_id_format"
        assert "4.11103E+17" in rejection.message

    def test_township_that_no_longer_exists(self, run):
        [rejection] = run([dibao(township="城关镇")]).rejections
        assert (rejection.reason, rejection.column, rejection.value) == (
            "unknown_township",
            "乡镇（街道）",
            "城关镇",
        )
        assert "郾城区" in rejection.message

    def test_township_code_of_another_district(self, run):
        divisions = FakeDivisions(extra={"召陵镇": "411104101000"})
        result = run(
            [dibao(township="召陵镇"), dibao(township="411104101000")],
            divisions=divisions,
        )
        assert reasons(result) == [
            (3, "township_outside_district"),
            (4, "township_outside_district"),
        ]

    def test_institution_supported_person_without_institution(self, run):
        result = run(
            tekun_rows=[tekun(mode="集中供养"), tekun(mode="集中供养", institution=" ")]
        )
        assert reasons(result) == [
            (3, "missing_institution"),
            (4, "missing_institution"),
        ]
        assert result.rejections[0].column == "供养机构"

    def test_birth_after_the_snapshot_month(self, run):
        born_later = make_id("20230101")
        result = run(
            [dibao(id_number=born_later), dibao(id_number=make_id("20221231"))],
            snapshot_month=date(2022, 12, 1),
        )
        assert reasons(result) == [(3, "id_born_after_snapshot")]

    def test_checks_run_in_order(self, run):
        # A bad checksum and an unknown township: the ID check comes first.
        bad = ZHANG[:17] + ("0" if ZHANG[17] != "0" else "1")
        result = run(
            [dibao(id_number=bad, township="城关镇"), dibao(name="", township="城关镇")]
        )
        assert reasons(result) == [(3, "invalid_id_checksum"), (4, "unknown_township")]

    def test_missing_name_and_unknown_category(self, run):
        result = run([dibao(name=""), dibao(id_number=LI, category="临时救助")])
        assert reasons(result) == [(3, "missing_name"), (4, "unknown_category")]

    def test_rejections_never_show_a_full_id_number(self, run):
        bad = ZHANG[:17] + ("0" if ZHANG[17] != "0" else "1")
        result = run([dibao(id_number=bad), dibao(id_number=make_id("19800231"))])
        for rejection in result.rejections:
            assert not re.search(r"\d{11}", rejection.value + rejection.message)
        assert result.rejections[0].value == bad[:6] + "********" + bad[-4:]


class TestCategories:
    @pytest.mark.parametrize(
        "category, categories, mode",
        [
            ("城市低保", {"urban_dibao"}, "dispersed"),
            ("01", {"urban_dibao"}, "dispersed"),
            ("02", {"rural_dibao"}, "dispersed"),
            ("04", {"tekun"}, "dispersed"),
            ("特困人员", {"tekun"}, "dispersed"),
            ("分散供养特困人员", {"tekun"}, "dispersed"),
        ],
    )
    def test_names_and_codes(self, run, category, categories, mode):
        [person] = run([dibao(category=category)]).beneficiaries
        assert (person.categories, person.support_mode) == (categories, mode)

    def test_code_03_needs_an_institution(self, run):
        result = run([dibao(category="03")])
        assert reasons(result) == [(3, "missing_institution")]
        assert result.rejections[0].column == "供养机构"  # a column the file lacks

    def test_list_without_category_is_tekun(self, run):
        [person] = run(
            tekun_rows=[tekun(mode="集中供养", institution="商桥镇敬老院")]
        ).beneficiaries
        assert person.categories == {"tekun"}
        assert (person.support_mode, person.institution) == (
            "institutional",
            "商桥镇敬老院",
        )


class TestGrouping:
    def test_same_person_twice_is_one_beneficiary(self, run):
        result = run([dibao(), dibao(), dibao(id_number=LI, name="李四")])
        assert (result.accepted_rows, result.merged_duplicates) == (3, 1)
        assert result.beneficiary_count == 2
        assert [len(b.source_rows) for b in result.beneficiaries] == [2, 1]

    def test_person_in_both_lists_keeps_both_categories(self, run):
        result = run([dibao()], [tekun(mode="集中供养", institution="商桥镇敬老院")])
        [person] = result.beneficiaries
        assert person.categories == {"rural_dibao", "tekun"}
        assert (person.support_mode, person.institution) == (
            "institutional",
            "商桥镇敬老院",
        )
        assert [(s.file, s.row) for s in person.source_rows] == [
            ("dibao.csv", 3),
            ("tekun.xlsx", 3),
        ]
        assert result.townships["411103102000"].institutional == 1

    def test_one_id_in_two_townships_rejects_every_row(self, run):
        result = run(
            [
                dibao(),
                dibao(id_number=LI, name="李四"),
                dibao(township="裴城镇"),
                dibao(),
            ]
        )
        assert reasons(result) == [
            (3, "conflicting_township"),
            (5, "conflicting_township"),
            (6, "conflicting_township"),
        ]
        assert "第5行" in result.rejections[0].message
        assert result.merged_duplicates == 0
        assert [b.name for b in result.beneficiaries] == ["李四"]

    def test_one_id_under_two_names(self, run):
        result = run([dibao(), dibao(name="张叁")])
        assert reasons(result) == [(3, "conflicting_name"), (4, "conflicting_name")]
        assert result.rejections[1].column == "姓名"

    def test_township_figures(self, run):
        result = run(
            [dibao(), dibao(id_number=LI, name="李四", township="沙北街道")],
            [
                tekun(
                    name="王五", id_number=WANG, mode="集中供养", institution="敬老院"
                ),
                tekun(name="李四", id_number=LI, township="沙北街道"),
            ],
        )
        assert result.summary()["townships"] == {
            "411103001000": {"name": "沙北街道", "eligible": 1, "dispersed": 1},
            "411103102000": {
                "name": "商桥镇",
                "eligible": 2,
                "dibao": 1,
                "institutional": 1,
            },
        }


class TestResolvers:
    def test_callable_resolves_townships(self, tmp_path):
        path = write_csv(tmp_path / "r.csv", [DIBAO_HEADER, dibao(township="商桥")])
        township = Township("411103102000", "商桥镇")
        result = import_roster(
            [path],
            district_code=YANCHENG_CODE,
            divisions=lambda name: township if name == "商桥" else None,
        )
        assert result.beneficiaries[0].township_name == "商桥镇"

    def test_finish_twice_returns_the_same_result(self, tmp_path):
        path = write_csv(
            tmp_path / "r.csv", [DIBAO_HEADER, dibao(), dibao(township="裴城镇")]
        )
        roster_import = RosterImport(YANCHENG_CODE, FakeDivisions())
        roster_import.add_file(path)
        assert roster_import.finish() is roster_import.finish()
        assert roster_import.finish().rejected_rows == 2


class TestScale:
    def test_memory_per_person_stays_small(self):
        # A province-sized roster (1,000,000 persons) must fit: the import keeps a
        # few references per ID number, never the rows themselves.
        layout = Layout(
            "big.csv",
            None,
            1,
            {NAME: 0, ID_NUMBER: 1, CATEGORY: 2, TOWNSHIP: 3, VILLAGE: 4},
            {},
        )
        townships = sorted(YANCHENG_TOWNSHIPS)

        def rows(count):
            for i in range(count):
                born = date(1930, 1, 1) + timedelta(days=i // 1000)
                values = {
                    NAME: f"张伟{i % 50}",
                    ID_NUMBER: make_id(f"{born:%Y%m%d}", i % 1000),
                    CATEGORY: "农村低保",
                    TOWNSHIP: townships[i % 10],
                    VILLAGE: f"村{i % 300}",
                }
                yield RosterRow(layout, i + 2, values)

        count = 10_000
        roster_import = RosterImport(YANCHENG_CODE, FakeDivisions())
        tracemalloc.start()
        try:
            roster_import.add_rows(rows(count))
            traced_bytes, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert roster_import.finish().beneficiary_count == count
        assert traced_bytes / count < 300  # bytes per person; about 200 measured
