from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from doc_helpers import find_row, open_sheet, sheet_rows

from aixin.spreadsheet import (
    DATE,
    DATETIME,
    INTEGER,
    MASKED_ID,
    MONEY,
    PERCENT,
    Column,
    Sheet,
    build_table,
    build_workbook,
    display_width,
    neutralise_text,
)

COLUMNS = (Column("姓名"), Column("金额（元）", MONEY), Column("人数", INTEGER))


class TestNeutraliseText:
    @pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
    def test_formula_prefix_quoted(self, text):
        assert neutralise_text(text) == "'" + text

    def test_plain_text_unchanged(self):
        assert neutralise_text("张三") == "张三"

    def test_inner_equals_unchanged(self):
        assert neutralise_text("a=b") == "a=b"


class TestBuildTable:
    def render(self, **options):
        rows = [("=HYPERLINK(\"x\")", 30000, 1), ("张三", 12345, 2)]
        return build_table("测试表", COLUMNS, rows, **options)

    def test_title_first_row(self):
        assert sheet_rows(self.render())[0][0] == "测试表"

    def test_header_row(self):
        assert sheet_rows(self.render())[1] == ("姓名", "金额（元）", "人数")

    def test_header_after_subtitle(self):
        rows = sheet_rows(self.render(subtitle="第一行\n第二行"))
        assert rows[3] == ("姓名", "金额（元）", "人数")

    def test_formula_stored_as_text(self):
        cell = open_sheet(self.render())["A3"]
        assert cell.value == "'=HYPERLINK(\"x\")"

    def test_formula_cell_type_string(self):
        cell = open_sheet(self.render())["A3"]
        assert cell.data_type == "s"

    def test_money_in_yuan(self):
        assert open_sheet(self.render())["B4"].value == 123.45

    def test_money_number_format(self):
        assert open_sheet(self.render())["B4"].number_format == "#,##0.00"

    def test_header_frozen(self):
        assert open_sheet(self.render()).freeze_panes == "A3"

    def test_frozen_below_subtitle(self):
        assert open_sheet(self.render(subtitle="副标题")).freeze_panes == "A4"

    def test_title_merged(self):
        assert "A1:C1" in open_sheet(self.render()).merged_cells

    def test_column_width_set(self):
        width = open_sheet(self.render()).column_dimensions["A"].width
        assert width >= display_width('=HYPERLINK("x")')

    def test_auto_totals_money(self):
        totals = find_row(sheet_rows(self.render(totals=True)), "合计")
        assert totals[1] == 423.45

    def test_auto_totals_count(self):
        totals = find_row(sheet_rows(self.render(totals=True)), "合计")
        assert totals[2] == 3

    def test_explicit_totals(self):
        totals = find_row(sheet_rows(self.render(totals=("合计", 1, 2))), "合计")
        assert totals == ("合计", 0.01, 2)

    def test_sign_off_lines(self):
        rows = sheet_rows(self.render(sign_off=("区财政局", "区商务局")))
        signers = [row[0] for row in rows if row[0] and "签字" in row[0]]
        assert len(signers) == 2

    def test_sign_off_names_party(self):
        rows = sheet_rows(self.render(sign_off=("区财政局",)))
        assert rows[-1][0].startswith("区财政局（签字/盖章）")

    def test_short_row_rejected(self):
        with pytest.raises(ValueError):
            build_table("表", COLUMNS, [("张三", 1)])

    def test_float_money_rejected(self):
        with pytest.raises(TypeError):
            build_table("表", COLUMNS, [("张三", 1.5, 1)])


class TestCellKinds:
    def render(self, column, value):
        return open_sheet(build_table("表", (column,), [(value,)]))["A3"]

    def test_percent_value(self):
        assert self.render(Column("率", PERCENT), Decimal("0.5")).value == 0.5

    def test_percent_format(self):
        cell = self.render(Column("率", PERCENT), Decimal("0.5"))
        assert cell.number_format == "0.00%"

    def test_date_value(self):
        cell = self.render(Column("日期", DATE), date(2023, 1, 13))
        assert cell.value == datetime(2023, 1, 13)

    def test_datetime_local_time(self):
        utc = datetime(2023, 1, 12, 18, 0, tzinfo=timezone.utc)
        cell = self.render(Column("时间", DATETIME), utc)
        assert cell.value == datetime(2023, 1, 13, 2, 0)

    def test_masked_id_accepted(self):
        cell = self.render(Column("身份证号", MASKED_ID), "411103********1234")
        assert cell.value == "411103********1234"

    def test_full_id_rejected(self):
        with pytest.raises(ValueError):
            self.render(Column("身份证号", MASKED_ID), "411103198001011237")

    def test_none_empty(self):
        assert self.render(Column("金额", MONEY), None).value is None

    def test_unknown_kind_rejected(self):
        with pytest.raises(ValueError):
            Column("x", "colour")


class TestBuildWorkbook:
    def test_sheet_order(self):
        sheets = [Sheet("甲", "甲表", COLUMNS, []), Sheet("乙", "乙表", COLUMNS, [])]
        data = build_workbook(sheets)
        assert open_sheet(data, "乙")["A1"].value == "乙表"

    def test_generator_rows_streamed(self):
        rows = (("张三", 100, 1) for _ in range(500))
        data = build_table("表", COLUMNS, rows, totals=True)
        assert find_row(sheet_rows(data), "合计")[2] == 500

    def test_list_rows_not_repeated(self):
        rows = [("张三", 100, 1)] * 250
        data = build_table("表", COLUMNS, rows, totals=True)
        assert find_row(sheet_rows(data), "合计")[2] == 250
