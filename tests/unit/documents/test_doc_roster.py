from datetime import date, datetime

import pytest
from doc_helpers import find_row, pdf_compact_text, sheet_rows

from aixin.clock import CAMPAIGN_TZ
from services.roster.documents import (
    ImportSummary,
    NoticeEntry,
    PublicNotice,
    RejectedRow,
    mask_name,
    render_import_report,
    render_notice_pdf,
    render_notice_xlsx,
)


class TestMaskName:
    @pytest.mark.parametrize(
        ("name", "masked"),
        [
            ("张三明", "张*明"),
            ("张三", "张*"),
            ("张", "*"),
            ("欧阳小明", "欧**明"),
            ("买买提·艾力", "买**·*力"),
            ("阿卜杜拉·买买提·吐尔逊", "阿***·***·**逊"),
            ("  张三明 ", "张*明"),
            ("\U00020000三明", "\U00020000*明"),
        ],
    )
    def test_masks(self, name, masked):
        assert mask_name(name) == masked

    def test_variation_selector_kept(self):
        assert mask_name("张三明\ufe00") == "张*明\ufe00"

    def test_empty_rejected(self):
        with pytest.raises(ValueError):
            mask_name(" ")


def summary(**changes):
    figures = dict(
        snapshot_month="2022-12",
        file_names=("低保.csv", "特困.xlsx"),
        imported_at=datetime(2023, 1, 5, 9, 30, tzinfo=CAMPAIGN_TZ),
        rows_read=10,
        accepted_rows=8,
        rejected_rows=2,
        merged_duplicates=1,
        beneficiaries=7,
        reason_counts={"id_checksum": 1, "missing_name": 1},
    )
    return ImportSummary(**{**figures, **changes})


REJECTED = (
    RejectedRow("低保.csv", 5, "身份证号", "411103198001011237", "id_checksum",
                "身份证号校验位错误，请核对后重新填写。"),
    RejectedRow("特困.xlsx", 9, "姓名", "=cmd|' /C calc'!A0", "missing_name",
                "姓名为空，请填写。"),
)


class TestImportReport:
    def test_summary_sheet_first(self):
        rows = sheet_rows(render_import_report(summary(), REJECTED))
        assert rows[0][0] == "花名册导入报告（2022-12）"

    def test_summary_rows_read(self):
        rows = sheet_rows(render_import_report(summary(), REJECTED))
        assert find_row(rows, "读取行数")[1] == 10

    def test_summary_beneficiaries(self):
        rows = sheet_rows(render_import_report(summary(), REJECTED))
        assert find_row(rows, "发放对象人数")[1] == 7

    def test_rejected_header(self):
        rows = sheet_rows(render_import_report(summary(), REJECTED), "被拒绝的行")
        assert rows[1] == ("文件", "行号", "列", "值（已脱敏）", "原因代码", "说明")

    def test_id_value_masked(self):
        rows = sheet_rows(render_import_report(summary(), REJECTED), "被拒绝的行")
        assert rows[2][3] == "411103********1237"

    def test_formula_value_neutralised(self):
        rows = sheet_rows(render_import_report(summary(), REJECTED), "被拒绝的行")
        assert rows[3][3] == "'=cmd|' /C calc'!A0"

    def test_row_number_kept(self):
        rows = sheet_rows(render_import_report(summary(), REJECTED), "被拒绝的行")
        assert rows[3][1] == 9

    def test_reason_totals(self):
        rows = sheet_rows(render_import_report(summary(), REJECTED), "原因统计")
        assert find_row(rows, "合计")[1] == 2

    def test_lost_row_rejected(self):
        with pytest.raises(ValueError):
            render_import_report(summary(rows_read=11), REJECTED)

    def test_bad_beneficiaries_rejected(self):
        with pytest.raises(ValueError):
            render_import_report(summary(beneficiaries=8), REJECTED)


def notice(village=None):
    entries = (
        NoticeEntry("张三明", "411103********1234", "黄河村", "rural_dibao", 30000),
        NoticeEntry("李四", "411103********5678", "淞江社区", "urban_dibao", 30000),
        NoticeEntry("买买提·艾力", "411103********9012", "黄河村", "tekun", 30000),
    )
    return PublicNotice(
        campaign_name="郾城区2023年爱心消费券",
        township_name="沙北街道",
        entries=entries,
        notice_from=date(2023, 1, 5),
        notice_until=date(2023, 1, 11),
        published_on=date(2023, 1, 5),
        contact_phone="0395-1234567",
        village=village,
    )


class TestNoticeXlsx:
    def rows(self, village=None):
        return sheet_rows(render_notice_xlsx(notice(village)))

    def test_header(self):
        assert self.rows()[3] == (
            "序号", "村（社区）", "姓名", "身份证号", "保障类别", "金额（元）"
        )

    def test_sorted_by_village(self):
        assert [row[1] for row in self.rows()[4:7]] == ["淞江社区", "黄河村", "黄河村"]

    def test_name_masked(self):
        assert self.rows()[5][2] == "张*明"

    def test_dot_name_masked(self):
        assert self.rows()[6][2] == "买**·*力"

    def test_category_chinese(self):
        assert self.rows()[6][4] == "特困"

    def test_amount_yuan(self):
        assert self.rows()[4][5] == 300

    def test_totals(self):
        assert find_row(self.rows(), "合计")[5] == 900

    def test_village_filter(self):
        assert find_row(self.rows("黄河村"), "合计")[1] == "2 人"

    def test_unknown_category_rejected(self):
        bad = PublicNotice(**{**notice().__dict__, "entries": (
            NoticeEntry("张三", "411103********1234", "黄河村", "wubao", 30000),
        )})
        with pytest.raises(ValueError):
            render_notice_xlsx(bad)


class TestNoticePdf:
    def test_pdf_header(self):
        assert render_notice_pdf(notice()).startswith(b"%PDF")

    def test_masked_name(self):
        assert "张*明" in pdf_compact_text(render_notice_pdf(notice()))

    def test_full_name_absent(self):
        assert "张三明" not in pdf_compact_text(render_notice_pdf(notice()))

    def test_objection_phone(self):
        assert "0395-1234567" in pdf_compact_text(render_notice_pdf(notice()))

    def test_notice_period(self):
        text = pdf_compact_text(render_notice_pdf(notice()))
        assert "公示期：2023年1月5日至2023年1月11日" in text
