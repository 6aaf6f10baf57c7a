import pytest
from doc_helpers import pdf_compact_text, pdf_page_count, pdf_text

from aixin.pdf import build_table_pdf, cell_text, printable
from aixin.spreadsheet import INTEGER, MASKED_ID, MONEY, PERCENT, Column

COLUMNS = (Column("姓名"), Column("身份证号", MASKED_ID), Column("金额（元）", MONEY))


def render(count=3, **options):
    rows = [(f"张三{i}", "411103********1234", 30000) for i in range(count)]
    return build_table_pdf("测试表", COLUMNS, rows, **options)


class TestBuildTablePdf:
    def test_pdf_header(self):
        assert render().startswith(b"%PDF")

    def test_title_extractable(self):
        assert "测试表" in pdf_text(render())

    def test_header_extractable(self):
        assert "身份证号" in pdf_text(render())

    def test_money_in_yuan(self):
        assert "300.00" in pdf_text(render())

    def test_totals_row(self):
        assert "900.00" in pdf_text(render(totals=True))

    def test_page_number_footer(self):
        assert "第1页共1页" in pdf_compact_text(render())

    def test_long_table_paginates(self):
        assert pdf_page_count(render(count=150)) > 2

    def test_header_repeated(self):
        text = pdf_text(render(count=150))
        assert text.count("身份证号") == pdf_page_count(render(count=150))

    def test_last_page_total(self):
        data = render(count=150)
        pages = pdf_page_count(data)
        assert f"第{pages}页共{pages}页" in pdf_compact_text(data)

    def test_sign_off_line(self):
        assert "区财政局（签字/盖章）" in pdf_text(render(sign_off=("区财政局",)))

    def test_markup_escaped(self):
        data = build_table_pdf("表", COLUMNS, [("<b>&", "411103********1234", 1)])
        assert "<b>&" in pdf_text(data)

    def test_full_id_rejected(self):
        with pytest.raises(ValueError):
            build_table_pdf("表", COLUMNS, [("张三", "411103198001011237", 1)])

    def test_landscape_page(self):
        assert b"/MediaBox [ 0 0 841.8898 595.2756 ]" in render(is_landscape=True)


class TestCellText:
    def test_money(self):
        assert cell_text(MONEY, 12345) == "123.45"

    def test_percent(self):
        assert cell_text(PERCENT, 0.5) == "50.00%"

    def test_integer(self):
        assert cell_text(INTEGER, 7) == "7"

    def test_none_blank(self):
        assert cell_text(MONEY, None) == ""


class TestPrintable:
    def test_middle_dot_replaced(self):
        assert printable("买买提·艾力") == "买买提\u30fb艾力"

    def test_middle_dot_extracted(self):
        data = build_table_pdf("表", COLUMNS, [("买买提·艾力", "4111********1234", 1)])
        assert "买买提·艾力" in pdf_text(data)
