from datetime import date

import pytest
from doc_helpers import find_row, pdf_compact_text, pdf_page_count, sheet_rows

from aixin.vouchers import check_code, make_serial
from services.issuance.documents import (
    PrintBatch,
    PrintedVoucher,
    SignOffPerson,
    SignOffSheet,
    render_batch_list,
    render_print_file,
    render_sign_off_pdf,
    render_sign_off_xlsx,
    voucher_position,
    voucher_qr_payload,
)

KEY = b"k" * 32


def vouchers(count):
    serials = [make_serial(1, "411103001000", n) for n in range(1, count + 1)]
    return [PrintedVoucher(serial, check_code(KEY, serial)) for serial in serials]


def batch(count=10, merchants=("好又多超市（黄河路店）", "丹尼斯百货郾城店")):
    return PrintBatch(
        campaign_name="郾城区2023年爱心消费券",
        township_name="沙北街道",
        batch_no="P-0001",
        printer_name="好又多超市",
        merchant_names=merchants,
        face_value_fen=30000,
        valid_from=date(2023, 1, 13),
        valid_until=date(2023, 2, 28),
        vouchers=vouchers(count),
    )


def sign_off_sheet(is_institution=False):
    first = vouchers(1)[0].serial
    return SignOffSheet(
        campaign_name="郾城区2023年爱心消费券",
        township_name="沙北街道",
        unit_name="郾城区敬老院" if is_institution else "黄河村",
        is_institution=is_institution,
        face_value_fen=30000,
        persons=(
            SignOffPerson("张三明", "411103********1234", first),
            SignOffPerson("买买提·艾力", "411103********5678", None, "=代领"),
        ),
        manager_name="李四",
        manager_masked_id_number="411103********9999",
        manager_phone="13800000000",
    )


class TestVoucherPosition:
    def test_first_voucher(self):
        assert voucher_position(0) == (1, 1)

    def test_last_on_page(self):
        assert voucher_position(7) == (1, 8)

    def test_next_page(self):
        assert voucher_position(8) == (2, 1)


class TestPrintFile:
    def test_pdf_header(self):
        assert render_print_file(batch()).startswith(b"%PDF")

    def test_eight_per_page(self):
        assert pdf_page_count(render_print_file(batch(17))) == 3

    def test_title_on_every_voucher(self):
        text = pdf_compact_text(render_print_file(batch(8)))
        assert text.count("爱心消费券") >= 8

    def test_grouped_serial(self):
        text = pdf_compact_text(render_print_file(batch(1)))
        assert vouchers(1)[0].serial in text

    def test_check_code(self):
        text = pdf_compact_text(render_print_file(batch(1)))
        assert vouchers(1)[0].check_code in text

    def test_face_value(self):
        assert "300.00" in pdf_compact_text(render_print_file(batch(1)))

    def test_rules(self):
        text = pdf_compact_text(render_print_file(batch(1)))
        assert "不找零、不兑现、仅限指定商超使用" in text

    def test_merchants(self):
        assert "丹尼斯百货郾城店" in pdf_compact_text(render_print_file(batch(1)))

    def test_validity(self):
        text = pdf_compact_text(render_print_file(batch(1)))
        assert "2023-01-13至2023-02-28" in text

    def test_page_footer(self):
        assert "第2页共2页" in pdf_compact_text(render_print_file(batch(9)))

    def test_without_crop_marks(self):
        assert render_print_file(batch(1), crop_marks=False).startswith(b"%PDF")

    def test_empty_batch(self):
        assert pdf_page_count(render_print_file(batch(0))) == 1

    def test_long_merchant_list_rejected(self):
        with pytest.raises(ValueError):
            render_print_file(batch(1, merchants=["很长的超市名称" * 4] * 10))

    def test_qr_payload(self):
        assert voucher_qr_payload("011", "ABC") == "011 ABC"


class TestBatchList:
    def test_header(self):
        rows = sheet_rows(render_batch_list(batch(3)))
        assert rows[2] == ("序号", "券编号", "面值（元）", "印制页码", "页内位置")

    def test_serial_row(self):
        rows = sheet_rows(render_batch_list(batch(3)))
        assert rows[3] == (1, vouchers(1)[0].serial, 300, 1, 1)

    def test_totals(self):
        totals = find_row(sheet_rows(render_batch_list(batch(3))), "合计")
        assert totals[1:3] == ("3 张", 900)

    def test_no_check_codes(self):
        rows = sheet_rows(render_batch_list(batch(3)))
        cells = {value for row in rows for value in row}
        assert vouchers(1)[0].check_code not in cells


class TestSignOffSheet:
    def test_xlsx_header(self):
        rows = sheet_rows(render_sign_off_xlsx(sign_off_sheet()))
        assert rows[2][:4] == ("序号", "姓名", "身份证号", "券编号")

    def test_xlsx_signature_column(self):
        rows = sheet_rows(render_sign_off_xlsx(sign_off_sheet()))
        assert rows[2][5:7] == ("领取人签字", "领取日期")

    def test_xlsx_person_row(self):
        rows = sheet_rows(render_sign_off_xlsx(sign_off_sheet()))
        assert rows[3][1:4] == ("张三明", "411103********1234", vouchers(1)[0].serial)

    def test_xlsx_note_neutralised(self):
        rows = sheet_rows(render_sign_off_xlsx(sign_off_sheet()))
        assert rows[4][7] == "'=代领"

    def test_xlsx_totals(self):
        totals = find_row(sheet_rows(render_sign_off_xlsx(sign_off_sheet())), "合计")
        assert totals[1] == "2 人"

    def test_xlsx_institution_manager(self):
        rows = sheet_rows(render_sign_off_xlsx(sign_off_sheet(is_institution=True)))
        assert "领取人（机构负责人）：李四" in rows[2][0]

    def test_pdf_names(self):
        text = pdf_compact_text(render_sign_off_pdf(sign_off_sheet()))
        assert "买买提·艾力" in text

    def test_pdf_village_signers(self):
        text = pdf_compact_text(render_sign_off_pdf(sign_off_sheet()))
        assert "村（居）委会经办人" in text

    def test_pdf_institution_signers(self):
        text = pdf_compact_text(render_sign_off_pdf(sign_off_sheet(True)))
        assert "机构负责人（领取人）" in text

    def test_full_id_rejected(self):
        sheet = sign_off_sheet()
        person = SignOffPerson("张三", "411103198001011237")
        bad = SignOffSheet(**{**sheet.__dict__, "persons": (person,)})
        with pytest.raises(ValueError):
            render_sign_off_pdf(bad)
