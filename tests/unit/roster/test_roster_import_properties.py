"""Property: random rosters with planted defects, written as CSV or XLSX.

Every generated roster is a list of persons. Each person is written as one or more
rows of a dibao list and/or a tekun list, in a random file format (GB18030, UTF-8,
UTF-8 with BOM or XLSX) with title rows, blank rows and a totals row. A person
carries at most one planted defect: a row defect (the row must be rejected with
its reason code, at the row the clerk sees) or a group defect (a duplicate, which
merges, or a township or name conflict, which rejects every row of that ID). Rows
only spelled differently (spaces, full-width digits, lowercase x, the old 15-digit
form, category codes) must be accepted.
"""

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from roster_tables import (
    YANCHENG_CODE,
    YANCHENG_TOWNSHIPS,
    FakeDivisions,
    write_csv,
    write_xlsx,
)

from services.roster.domain.idnumber import check_character
from services.roster.domain.importer import import_roster

SNAPSHOT = date(2022, 12, 1)
TOWNSHIPS = sorted(YANCHENG_TOWNSHIPS)
NAMES = ["张伟", "王芳", "李娜", "刘秀英", "陈敏", "杨静", "买买提·艾力", "欧阳强"]
AREAS = ["411103", "411102", "412723"]
KINDS = ["urban_dibao", "rural_dibao", "tekun_dispersed", "tekun_institutional", "both"]
ROW_DEFECTS = [
    "missing_id",
    "invalid_id_format",
    "invalid_id_birthdate",
    "invalid_id_checksum",
    "id_born_after_snapshot",
    "unknown_township",
    "missing_institution",
    "missing_name",
    "unknown_category",
]
GROUP_SHAPES = ["duplicate", "conflicting_township", "conflicting_name"]
SPELLINGS = ["padding", "full_width", "lower_x", "id15", "category_code"]
FORMATS = ["gb18030", "utf-8", "utf-8-sig", "xlsx"]
DIBAO_HEADERS = [
    ["序号", "姓名", "身份证号码", "保障类别", "乡镇（街道）", "村（社区）"],
    ["序号", "姓名", "公民身份号码", "保障类别", "所属乡镇", "村(社区)"],
]
TEKUN_HEADERS = [
    [
        "序号",
        "姓名",
        "公民身份号码",
        "供养方式",
        "供养机构",
        "所属乡镇",
        "所在村（居）",
    ],
    ["序号", "姓名", "身份证号", "供养方式", "机构名称", "乡镇(街道)", "村（社区）"],
]


@dataclass
class Person:
    index: int
    area: str
    born: date
    name: str
    township: str
    kind: str
    defect: str | None  # a row defect or a group shape, or None
    spellings: list = field(default_factory=list)

    @property
    def id18(self) -> str:
        first17 = f"{self.area}{self.born:%Y%m%d}{self.index:03d}"
        return first17 + check_character(first17)


@dataclass
class Planted:
    """One row as written, and what the import must make of it."""

    person: Person
    cells: dict
    reason: str | None
    file: str = ""
    row: int = 0


@st.composite
def persons(draw):
    count = draw(st.integers(1, 25))
    people = []
    for index in range(1, count + 1):
        kind = draw(st.sampled_from(KINDS))
        defects = [None, None, None] + GROUP_SHAPES + _row_defects_for(kind)
        defect = draw(st.sampled_from(defects))
        born = date(1925, 1, 1) + timedelta(days=draw(st.integers(0, 34000)))
        if defect == "id_born_after_snapshot":
            born = date(2023, 1, 1) + timedelta(days=draw(st.integers(0, 700)))
        people.append(
            Person(
                index=index,
                area=draw(st.sampled_from(AREAS)),
                born=born,
                name=draw(st.sampled_from(NAMES)),
                township=draw(st.sampled_from(TOWNSHIPS)),
                kind=kind,
                defect=defect,
                spellings=draw(st.lists(st.sampled_from(SPELLINGS), max_size=3)),
            )
        )
    return people


def _row_defects_for(kind):
    defects = [d for d in ROW_DEFECTS if d != "missing_institution"]
    if kind == "tekun_institutional":
        defects.append("missing_institution")
    if kind == "both" or kind.startswith("tekun"):
        defects.remove("unknown_category")  # the tekun list has no category column
    if kind == "both":
        return []  # a person in both lists is a group already: no row defect
    return defects


def plant(person: Person, draw_bool) -> list[Planted]:
    """The rows of one person, each with the reason code it must get."""
    lists = ["dibao", "tekun"] if person.kind == "both" else [_list_of(person.kind)]
    if person.defect == "duplicate":
        lists = lists + [lists[-1]]
    elif person.defect in ("conflicting_township", "conflicting_name"):
        lists = lists + [lists[0]]
    rows = []
    for number, list_name in enumerate(lists):
        cells = _cells(person, list_name, draw_bool)
        reason = None
        if person.defect in ROW_DEFECTS:
            reason = _plant_row_defect(person, cells, list_name)
        elif person.defect in ("conflicting_township", "conflicting_name"):
            reason = person.defect
            if number == len(lists) - 1:
                _plant_conflict(person, cells)
        rows.append(Planted(person, cells, reason))
    return rows


def _list_of(kind):
    return "dibao" if kind.endswith("dibao") else "tekun"


def _cells(person, list_name, draw_bool):
    id_text = person.id18
    if "id15" in person.spellings and 1900 <= person.born.year <= 1999 and draw_bool():
        id_text = id_text[:6] + id_text[8:17]
    if "lower_x" in person.spellings:
        id_text = id_text.replace("X", "x")
    if "full_width" in person.spellings:
        id_text = id_text.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    name, township = person.name, person.township
    if "padding" in person.spellings:
        id_text, name, township = f" {id_text}\u3000", f"\u3000{name} ", f" {township}"
    cells = {"name": name, "id": id_text, "township": township, "village": "袁湾村"}
    if list_name == "dibao":
        category = "urban_dibao" if person.kind == "urban_dibao" else "rural_dibao"
        coded = "category_code" in person.spellings
        names = {"urban_dibao": ("01", "城市低保"), "rural_dibao": ("02", "农村低保")}
        cells["category"] = names[category][0 if coded else 1]
    else:
        institutional = person.kind == "tekun_institutional"
        cells["mode"] = "集中供养" if institutional else "分散供养"
        cells["institution"] = f"{person.township}敬老院" if institutional else ""
    return cells


def _plant_row_defect(person, cells, list_name):
    defect, id18 = person.defect, person.id18
    if defect == "missing_id":
        cells["id"] = "\u3000"
    elif defect == "invalid_id_format":
        cells["id"] = ("number", float(id18.replace("X", "0")))
    elif defect == "invalid_id_birthdate":
        first17 = f"{person.area}{person.born.year}0230{person.index:03d}"
        cells["id"] = first17 + check_character(first17)
    elif defect == "invalid_id_checksum":
        cells["id"] = id18[:17] + ("0" if id18[17] != "0" else "X")
    elif defect == "unknown_township":
        cells["township"] = "城关镇"
    elif defect == "missing_institution":
        cells["institution"] = " "
    elif defect == "missing_name":
        cells["name"] = "\u3000"
    elif defect == "unknown_category":
        cells["category"] = "临时救助"
    return defect


def _plant_conflict(person, cells):
    if person.defect == "conflicting_township":
        others = [t for t in TOWNSHIPS if t != person.township]
        cells["township"] = others[person.index % len(others)]
    else:
        cells["name"] = person.name + "甲"


def write_list(directory, list_name, rows, file_format, header_choice, layout_draw):
    """Write one list; set each planted row's file name and spreadsheet row number."""
    header = (DIBAO_HEADERS if list_name == "dibao" else TEKUN_HEADERS)[header_choice]
    extension = "xlsx" if file_format == "xlsx" else "csv"
    name = f"{list_name}.{extension}"
    titles, blanks_before = layout_draw(len(rows))
    table = [[f"郾城区{list_name}花名册"] + [""] * (len(header) - 1)] * titles
    table = table + [header]
    for number, (planted, blanks) in enumerate(
        zip(rows, blanks_before, strict=True), start=1
    ):
        table.extend([[""] * len(header)] * blanks)
        table.append(_row(planted.cells, list_name, number, file_format))
        planted.file, planted.row = name, len(table)
    table.append(["合计", f"{len(rows)}人"] + [""] * (len(header) - 2))
    path = Path(directory) / name
    if file_format == "xlsx":
        return write_xlsx(path, table, merge_title=titles > 0)
    return write_csv(path, table, encoding=file_format)


def _row(cells, list_name, number, file_format):
    id_cell = cells["id"]
    if isinstance(id_cell, tuple):  # an ID number that went through a number cell
        value = id_cell[1]
        id_cell = value if file_format == "xlsx" else f"{value:.5E}"
    if list_name == "dibao":
        return [
            number,
            cells["name"],
            id_cell,
            cells["category"],
            cells["township"],
            cells["village"],
        ]
    return [
        number,
        cells["name"],
        id_cell,
        cells["mode"],
        cells["institution"],
        cells["township"],
        cells["village"],
    ]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(people=persons(), data=st.data())
def test_random_rosters_keep_the_invariants_and_name_every_defect(people, data):
    planted = []
    for person in people:
        planted.extend(plant(person, lambda: data.draw(st.booleans())))
    order = data.draw(st.permutations(range(len(planted))))
    planted = [planted[i] for i in order]

    def layout_draw(count):
        titles = data.draw(st.integers(0, 2))
        blanks = data.draw(st.lists(st.integers(0, 2), min_size=count, max_size=count))
        return titles, blanks

    with tempfile.TemporaryDirectory() as directory:
        paths = []
        for list_name in ("dibao", "tekun"):
            rows = [p for p in planted if _list_of_row(p) == list_name]
            if rows:
                paths.append(
                    write_list(
                        directory,
                        list_name,
                        rows,
                        data.draw(st.sampled_from(FORMATS)),
                        data.draw(st.integers(0, 1)),
                        layout_draw,
                    )
                )
        result = import_roster(
            paths,
            district_code=YANCHENG_CODE,
            divisions=FakeDivisions(),
            snapshot_month=SNAPSHOT,
        )

    # Nothing is dropped silently.
    assert result.rows_read == len(planted)
    assert result.rows_read == result.accepted_rows + result.rejected_rows
    assert result.beneficiary_count == result.accepted_rows - result.merged_duplicates
    # Each planted defect gets its reason, at the row the clerk sees.
    expected = {(p.file, p.row): p.reason for p in planted if p.reason}
    assert {(r.file, r.row): r.reason for r in result.rejections} == expected
    assert result.rejected == dict(Counter(expected.values()))
    # Accepted persons: one beneficiary each, extra rows merged.
    accepted = [person for person in people if _accepted(person)]
    rows_of = Counter(p.person.index for p in planted if p.reason is None)
    assert result.merged_duplicates == sum(rows_of[p.index] - 1 for p in accepted)
    beneficiaries = {b.id_number: b for b in result.iter_beneficiaries()}
    assert set(beneficiaries) == {person.id18 for person in accepted}
    for person in accepted:
        beneficiary = beneficiaries[person.id18]
        assert beneficiary.name == person.name
        assert beneficiary.township_name == person.township
        institutional = person.kind == "tekun_institutional"
        assert beneficiary.support_mode == (
            "institutional" if institutional else "dispersed"
        )
    figures = result.townships.values()
    assert sum(t.eligible for t in figures) == result.beneficiary_count
    assert all(t.eligible == t.dibao + t.dispersed + t.institutional for t in figures)


def _list_of_row(planted: Planted) -> str:
    return "dibao" if "category" in planted.cells else "tekun"


def _accepted(person: Person) -> bool:
    return person.defect in (None, "duplicate")
