import codecs
import inspect
import re
import zipfile
from pathlib import Path

import pytest
from roster_tables import make_id, write_csv, write_xlsx

from services.roster.domain.readers import (
    CATEGORY,
    ID_NUMBER,
    INSTITUTION,
    NAME,
    SUPPORT_MODE,
    TOWNSHIP,
    VILLAGE,
    RosterFileError,
    read_roster,
)

DATA = Path(__file__).resolve().parents[2] / "data"
TITLE = ["郾城区2022年12月城乡低保对象花名册", "", "", "", ""]
HEADER = ["序号", "姓名", "身份证号码", "保障类别", "乡镇（街道）"]


def person(number, name="张三", township="商桥镇"):
    return [str(number), name, make_id("19800101", number), "农村低保", township]


class TestCsvEncoding:
    @pytest.mark.parametrize("encoding", ["gb18030", "utf-8", "utf-8-sig"])
    def test_each_export_encoding_reads_the_same(self, tmp_path, encoding):
        path = write_csv(
            tmp_path / "r.csv", [TITLE, HEADER, person(1, "欧阳·娜")], encoding
        )
        [row] = read_roster(path)
        assert row.get(NAME) == "欧阳·娜"
        assert row.get(TOWNSHIP) == "商桥镇"

    def test_non_utf8_file_reads_as_gb18030(self, tmp_path):
        path = write_csv(tmp_path / "r.csv", [TITLE, HEADER, person(1)], "gb18030")
        assert not path.read_bytes().startswith(codecs.BOM_UTF8)
        assert [row.get(NAME) for row in read_roster(path)] == ["张三"]

    def test_encoding_is_decided_once_not_per_row(self, tmp_path):
        # UTF-8 at the start, then a GB18030 row far below: an error, not a guess.
        rows = [HEADER] + [person(n % 1000) for n in range(1, 3000)]
        path = tmp_path / "mixed.csv"
        write_csv(path, rows, "utf-8")
        with open(path, "ab") as handle:
            handle.write(",".join(person(1, "李四")).encode("gb18030") + b"\r\n")
        with pytest.raises(RosterFileError) as raised:
            list(read_roster(path))
        assert raised.value.code == "roster_encoding_invalid"


class TestHeaderRow:
    def test_title_rows_keep_row_numbers(self, tmp_path):
        rows = [TITLE, ["制表单位：区民政局"], HEADER, person(1), person(2)]
        path = write_csv(tmp_path / "r.csv", rows)
        assert [row.row for row in read_roster(path)] == [4, 5]

    @pytest.mark.parametrize(
        "id_header, township_header",
        [
            ("公民身份号码", "所属乡镇"),
            ("身份证号", "乡镇(街道)"),
            (" 身份证号码* ", "乡镇（街道）"),
        ],
    )
    def test_header_aliases_are_recognised(self, tmp_path, id_header, township_header):
        header = ["序号", "姓名", id_header, "保障类别", township_header]
        path = write_csv(tmp_path / "r.csv", [header, person(1)])
        [row] = read_roster(path)
        assert row.get(ID_NUMBER) == make_id("19800101", 1)
        assert row.layout.header(ID_NUMBER) == id_header.strip()
        assert row.layout.header(TOWNSHIP) == township_header

    def test_missing_header_row_is_rejected(self, tmp_path):
        path = write_csv(tmp_path / "r.csv", [["a", "b"], ["1", "2"]])
        with pytest.raises(RosterFileError) as raised:
            list(read_roster(path))
        assert raised.value.code == "roster_header_not_found"

    def test_missing_township_column_is_rejected(self, tmp_path):
        path = write_csv(tmp_path / "r.csv", [["姓名", "身份证号码", "保障类别"]])
        with pytest.raises(RosterFileError) as raised:
            list(read_roster(path))
        assert raised.value.code == "roster_column_missing"
        assert "乡镇" in raised.value.message


class TestRowsSkipped:
    def test_non_data_rows_are_skipped(self, tmp_path):
        rows = [
            TITLE,
            HEADER,
            person(1),
            ["", " ", "", "", ""],
            [],
            person(2),
            HEADER,
            person(3),
            ["合计", "3人", "", "", ""],
        ]
        path = write_csv(tmp_path / "r.csv", rows)
        assert [row.row for row in read_roster(path)] == [3, 6, 8]

    def test_totals_row_without_sequence_number_is_skipped(self, tmp_path):
        rows = [HEADER, person(1), ["", "总计：1人", "", "", ""]]
        path = write_csv(tmp_path / "r.csv", rows)
        assert len(list(read_roster(path))) == 1


class TestXlsx:
    HEADER = [
        "序号",
        "姓名",
        "公民身份号码",
        "供养方式",
        "供养机构",
        "所属乡镇",
        "所在村（居）",
    ]

    def test_merged_title_row_and_columns(self, tmp_path):
        rows = [
            ["郾城区2022年12月特困人员花名册"],
            self.HEADER,
            [
                1,
                "王五",
                make_id("19400101"),
                "集中供养",
                "商桥镇敬老院",
                "商桥镇",
                "袁湾村",
            ],
            [None] * 7,
            ["合计", 1],
        ]
        [row] = read_roster(write_xlsx(tmp_path / "t.xlsx", rows))
        assert row.row == 3
        assert row.sheet == "花名册"
        assert row.values == {
            NAME: "王五",
            ID_NUMBER: make_id("19400101"),
            SUPPORT_MODE: "集中供养",
            INSTITUTION: "商桥镇敬老院",
            TOWNSHIP: "商桥镇",
            VILLAGE: "袁湾村",
        }
        assert CATEGORY not in row.values

    def test_wrong_sheet_dimension_keeps_rows(self, tmp_path):
        rows = [self.HEADER] + [
            [n, "王五", make_id("19400101", n), "分散供养", None, "商桥镇", "村"]
            for n in range(1, 6)
        ]
        path = write_xlsx(tmp_path / "t.xlsx", rows, merge_title=False)
        _declare_dimension(path, "A1:G3")  # as some exporters write it
        assert [row.row for row in read_roster(path)] == [2, 3, 4, 5, 6]

    def test_number_cell_stays_a_number(self, tmp_path):
        rows = [
            self.HEADER,
            [1, "王五", 4.11103e17, "分散供养", None, "商桥镇", "袁湾村"],
        ]
        [row] = read_roster(write_xlsx(tmp_path / "t.xlsx", rows, merge_title=False))
        assert isinstance(row.get(ID_NUMBER), float)

    def test_sheets_without_a_header_are_skipped(self, tmp_path):
        rows = [
            self.HEADER,
            [1, "王五", make_id("19400101"), "分散供养", None, "商桥镇", "村"],
        ]
        notes = [["填表说明"], ["身份证号码请设为文本格式"]]
        path = write_xlsx(
            tmp_path / "t.xlsx", rows, merge_title=False, extra_sheets=[("说明", notes)]
        )
        assert [row.get(NAME) for row in read_roster(path)] == ["王五"]

    def test_workbook_without_roster_is_rejected(self, tmp_path):
        path = write_xlsx(tmp_path / "t.xlsx", [["说明"], ["无"]])
        with pytest.raises(RosterFileError) as raised:
            list(read_roster(path))
        assert raised.value.code == "roster_header_not_found"

    def test_old_xls_file_is_rejected(self, tmp_path):
        path = tmp_path / "old.xls"
        path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 60)
        with pytest.raises(RosterFileError) as raised:
            read_roster(path)
        assert raised.value.code == "roster_file_unsupported"


class TestStreaming:
    def test_readers_are_generators(self):
        assert inspect.isgenerator(read_roster(DATA / "yancheng-dibao-2022-12.csv"))
        assert inspect.isgenerator(read_roster(DATA / "yancheng-tekun-2022-12.xlsx"))

    def test_binary_file_objects_are_read_too(self, tmp_path):
        path = write_csv(tmp_path / "r.csv", [HEADER, person(1)], "utf-8-sig")
        with open(path, "rb") as handle:
            [row] = read_roster(handle, name="上传.csv")
        assert row.file == "上传.csv"

    def test_shared_exports_row_numbers(self):
        csv_rows = list(read_roster(DATA / "yancheng-dibao-2022-12.csv"))
        xlsx_rows = list(read_roster(DATA / "yancheng-tekun-2022-12.xlsx"))
        assert (len(csv_rows), csv_rows[0].row, csv_rows[-1].row) == (9093, 3, 9104)
        assert (len(xlsx_rows), xlsx_rows[0].row, xlsx_rows[-1].row) == (1213, 3, 1215)
        assert csv_rows[0].file == "yancheng-dibao-2022-12.csv"


def _declare_dimension(path, reference):
    """Rewrite the <dimension> every sheet of an XLSX file declares."""
    with zipfile.ZipFile(path) as archive:
        members = {info: archive.read(info) for info in archive.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, content in members.items():
            if info.filename.startswith("xl/worksheets/sheet"):
                content = re.sub(
                    rb'<dimension ref="[^"]*"',
                    f'<dimension ref="{reference}"'.encode(),
                    content,
                )
            archive.writestr(info, content)
