"""Issuance documents: the voucher print file, the batch list and sign-off sheets.

Every renderer is a pure function from the plain data below to file bytes. Money is
int fen and dates are ``datetime.date``. ID numbers arrive masked (first 6 and last
4 characters), and a value without a '*' is rejected with ValueError.
"""

import io
import math
from dataclasses import dataclass
from datetime import date
from typing import Sequence

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph

from aixin import pdf
from aixin.money import format_yuan
from aixin.spreadsheet import INTEGER, MASKED_ID, MONEY, Column, Sheet, build_workbook
from aixin.vouchers import format_serial

VOUCHER_RULES = "不找零、不兑现、仅限指定商超使用"
COLUMNS_PER_PAGE = 2
ROWS_PER_PAGE = 4
VOUCHERS_PER_PAGE = COLUMNS_PER_PAGE * ROWS_PER_PAGE

PAGE_MARGIN = 10 * mm
FOOTER_HEIGHT = 8 * mm
GUTTER = 6 * mm
CARD_WIDTH = (A4[0] - 2 * PAGE_MARGIN - GUTTER) / COLUMNS_PER_PAGE
CARD_HEIGHT = (A4[1] - 2 * PAGE_MARGIN - FOOTER_HEIGHT - 3 * GUTTER) / ROWS_PER_PAGE
PADDING = 4 * mm
BAND_HEIGHT = 11 * mm
QR_SIZE = 24 * mm
CROP_OFFSET = 1 * mm
CROP_LENGTH = 2 * mm
ACCENT = colors.HexColor("#C0282D")
# Font sizes tried, largest first, until the merchant list fits its two lines.
PLACE_FONT_SIZES = (7.5, 6.5, 5.5)
PLACE_MAX_HEIGHT = 8 * mm


@dataclass(frozen=True)
class PrintedVoucher:
    """One voucher to print: its 18-digit serial and 8-character check code."""

    serial: str
    check_code: str


@dataclass(frozen=True)
class PrintBatch:
    """A print run of one township, printed by one designated merchant.

    ``merchant_names`` lists every supermarket where the vouchers can be spent.
    """

    campaign_name: str
    township_name: str
    batch_no: str
    printer_name: str
    merchant_names: Sequence[str]
    face_value_fen: int
    valid_from: date
    valid_until: date
    vouchers: Sequence[PrintedVoucher]


@dataclass(frozen=True)
class SignOffPerson:
    """One line of a sign-off sheet. A ``serial`` of None leaves the cell blank."""

    name: str
    masked_id_number: str
    serial: str | None = None
    note: str = ""


@dataclass(frozen=True)
class SignOffSheet:
    """Persons who collect vouchers in one village or one care institution.

    For an institution, ``manager_*`` names the manager who collects for all its
    residents.
    """

    campaign_name: str
    township_name: str
    unit_name: str
    is_institution: bool
    face_value_fen: int
    persons: Sequence[SignOffPerson]
    manager_name: str | None = None
    manager_masked_id_number: str | None = None
    manager_phone: str | None = None


def voucher_qr_payload(serial: str, check_code: str) -> str:
    """Return the text in a voucher's QR code: the serial, one space, the check code."""
    return f"{serial} {check_code}"


def voucher_position(index: int) -> tuple[int, int]:
    """Return the page (from 1) and slot (1 to 8, row by row) of voucher ``index``."""
    page, slot = divmod(index, VOUCHERS_PER_PAGE)
    return page + 1, slot + 1


def render_print_file(batch: PrintBatch, crop_marks: bool = True) -> bytes:
    """Render the PDF the merchant prints: eight vouchers to an A4 page."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    page.setTitle(f"{batch.township_name}爱心消费券印制文件 {batch.batch_no}")
    page.setCreator("Aixin")
    font = pdf.register_cjk_font()
    places = _places_paragraph(batch)
    total_pages = max(1, math.ceil(len(batch.vouchers) / VOUCHERS_PER_PAGE))

    for index, voucher in enumerate(batch.vouchers):
        page_no, slot = voucher_position(index)
        if slot == 1 and index > 0:
            page.showPage()
        if slot == 1:
            _draw_print_footer(page, font, batch, page_no, total_pages)
        x, y = _card_origin(slot)
        _draw_voucher(page, font, batch, voucher, places, x, y)
        if crop_marks:
            _draw_crop_marks(page, x, y)
    if not batch.vouchers:
        _draw_print_footer(page, font, batch, 1, 1)
    page.showPage()
    page.save()
    return buffer.getvalue()


def _card_origin(slot: int) -> tuple[float, float]:
    """Return the lower left corner of the card in ``slot`` (1 is top left)."""
    row, column = divmod(slot - 1, COLUMNS_PER_PAGE)
    x = PAGE_MARGIN + column * (CARD_WIDTH + GUTTER)
    top = A4[1] - PAGE_MARGIN
    y = top - (row + 1) * CARD_HEIGHT - row * GUTTER
    return x, y


def _draw_print_footer(page, font, batch: PrintBatch, page_no: int, total: int):
    page.setFont(font, 8)
    page.setFillColor(colors.black)
    footer = (
        f"{batch.campaign_name}  {batch.township_name}  印制批次 {batch.batch_no}  "
        f"印制：{batch.printer_name}  第 {page_no} 页 共 {total} 页"
    )
    page.drawCentredString(A4[0] / 2, PAGE_MARGIN / 2 + 1 * mm, pdf.printable(footer))


def _draw_voucher(page, font, batch, voucher, places, x, y) -> None:
    page.saveState()
    page.translate(x, y)
    _draw_frame(page, font, batch)
    _draw_face_value(page, font, batch.face_value_fen)
    _draw_details(page, font, batch, voucher)
    _draw_qr(page, voucher_qr_payload(voucher.serial, voucher.check_code))
    places.drawOn(page, PADDING, 8 * mm)
    page.setFillColor(ACCENT)
    page.setFont(font, 8)
    page.drawString(PADDING, 3.5 * mm, f"使用规则：{VOUCHER_RULES}")
    page.restoreState()


def _draw_frame(page, font, batch: PrintBatch) -> None:
    page.setStrokeColor(ACCENT)
    page.setLineWidth(1)
    outline = page.beginPath()
    outline.roundRect(0, 0, CARD_WIDTH, CARD_HEIGHT, 3 * mm)
    # Clip to the rounded outline so the band keeps the card's round corners.
    page.clipPath(outline, stroke=1, fill=0)
    page.setFillColor(ACCENT)
    page.rect(0, CARD_HEIGHT - BAND_HEIGHT, CARD_WIDTH, BAND_HEIGHT, stroke=0, fill=1)
    page.setFillColor(colors.white)
    page.setFont(font, 15)
    page.drawString(PADDING, CARD_HEIGHT - BAND_HEIGHT + 3.5 * mm, "爱心消费券")
    title_width = page.stringWidth("爱心消费券", font, 15)
    room = CARD_WIDTH - 2 * PADDING - title_width - 3 * mm
    name = pdf.printable(batch.campaign_name)
    size = _fitting_size(page, name, font, room, (8, 7, 6, 5))
    page.setFont(font, size)
    page.drawRightString(CARD_WIDTH - PADDING, CARD_HEIGHT - BAND_HEIGHT + 4 * mm, name)


def _fitting_size(page, content: str, font: str, room: float, sizes) -> float:
    """Return the first of ``sizes`` at which ``content`` fits ``room`` points."""
    for size in sizes:
        if page.stringWidth(content, font, size) <= room:
            return size
    # NOTE: a campaign name too long even at the smallest size overlaps the title.
    return sizes[-1]


def _draw_face_value(page, font, face_value_fen: int) -> None:
    baseline = CARD_HEIGHT - BAND_HEIGHT - 10 * mm
    page.setFillColor(colors.black)
    page.setFont(font, 9)
    page.drawString(PADDING, baseline, "面值")
    page.setFillColor(ACCENT)
    page.setFont("Helvetica-Bold", 22)
    amount = format_yuan(face_value_fen)
    page.drawString(PADDING + 9 * mm, baseline, amount)
    amount_width = page.stringWidth(amount, "Helvetica-Bold", 22)
    page.setFont(font, 11)
    page.drawString(PADDING + 10 * mm + amount_width, baseline, "元")


def _draw_details(page, font, batch: PrintBatch, voucher: PrintedVoucher) -> None:
    lines = [
        f"发放单位：{batch.township_name}",
        f"编号：{format_serial(voucher.serial)}",
        f"校验码：{voucher.check_code}",
        f"有效期：{batch.valid_from.isoformat()} 至 {batch.valid_until.isoformat()}",
    ]
    baseline = CARD_HEIGHT - BAND_HEIGHT - 16 * mm
    page.setFillColor(colors.black)
    for content in lines:
        page.setFont(font, 8.5)
        page.drawString(PADDING, baseline, pdf.printable(content))
        baseline -= 4.3 * mm


def _draw_qr(page, payload: str) -> None:
    widget = QrCodeWidget(payload, barLevel="M", barBorder=1)
    left, bottom, right, top = widget.getBounds()
    scale_x = QR_SIZE / (right - left)
    scale_y = QR_SIZE / (top - bottom)
    drawing = Drawing(QR_SIZE, QR_SIZE, transform=[scale_x, 0, 0, scale_y, 0, 0])
    drawing.add(widget)
    x = CARD_WIDTH - PADDING - QR_SIZE
    y = CARD_HEIGHT - BAND_HEIGHT - 2 * mm - QR_SIZE
    renderPDF.draw(drawing, page, x, y)


def _places_paragraph(batch: PrintBatch) -> Paragraph:
    """Return the 使用地点 paragraph, shrunk until it fits two lines of the card.

    Raises ValueError when even the smallest size needs more room, because a
    voucher that hides where it can be spent must not be printed.
    """
    content = "使用地点：" + "、".join(batch.merchant_names)
    width = CARD_WIDTH - 2 * PADDING
    for size in PLACE_FONT_SIZES:
        paragraph = pdf.text(content, size)
        _, height = paragraph.wrap(width, PLACE_MAX_HEIGHT * 2)
        if height <= PLACE_MAX_HEIGHT:
            return paragraph
    raise ValueError(
        f"merchant list too long for a voucher ({len(content)} characters): "
        "shorten the merchant names"
    )


def _draw_crop_marks(page, x: float, y: float) -> None:
    page.setStrokeColor(colors.black)
    page.setLineWidth(0.3)
    for corner_x, dx in ((x, -1), (x + CARD_WIDTH, 1)):
        for corner_y, dy in ((y, -1), (y + CARD_HEIGHT, 1)):
            near_x = corner_x + dx * CROP_OFFSET
            near_y = corner_y + dy * CROP_OFFSET
            page.line(near_x, corner_y, near_x + dx * CROP_LENGTH, corner_y)
            page.line(corner_x, near_y, corner_x, near_y + dy * CROP_LENGTH)


BATCH_COLUMNS = (
    Column("序号", INTEGER, 8),
    Column("券编号", width=24),
    Column("面值（元）", MONEY),
    Column("印制页码", INTEGER),
    Column("页内位置", INTEGER),
)


def render_batch_list(batch: PrintBatch) -> bytes:
    """Render the merchant's record of a print run as XLSX.

    Check codes are left out on purpose: a copy of this list must not be enough to
    forge a voucher.
    """
    count = len(batch.vouchers)
    face = batch.face_value_fen
    rows = (
        (index + 1, voucher.serial, face, *voucher_position(index))
        for index, voucher in enumerate(batch.vouchers)
    )
    sheet = Sheet(
        name="印制清单",
        title=f"{batch.township_name}爱心消费券印制清单",
        subtitle=(
            f"{batch.campaign_name}  印制批次：{batch.batch_no}  印制商超："
            f"{batch.printer_name}  有效期：{batch.valid_from} 至 {batch.valid_until}"
        ),
        columns=BATCH_COLUMNS,
        rows=rows,
        totals=("合计", f"{count} 张", count * face, None, None),
        sign_off=("印制商超经办人", "镇（街道）验收人"),
    )
    return build_workbook([sheet])


SIGN_OFF_COLUMNS = (
    Column("序号", INTEGER, 7),
    Column("姓名", width=14),
    Column("身份证号", MASKED_ID, 19),
    Column("券编号", width=19),
    Column("面值（元）", MONEY, 10),
    Column("领取人签字", width=16),
    Column("领取日期", width=12),
    Column("备注", width=10),
)


def _sign_off_rows(sheet: SignOffSheet) -> list:
    return [
        (number, p.name, p.masked_id_number, p.serial, sheet.face_value_fen, None, None,
         p.note)
        for number, p in enumerate(sheet.persons, start=1)
    ]


def _sign_off_totals(sheet: SignOffSheet) -> tuple:
    count = len(sheet.persons)
    total = count * sheet.face_value_fen
    return ("合计", f"{count} 人", None, None, total, None, None, None)


def _sign_off_subtitle(sheet: SignOffSheet) -> str:
    if not sheet.is_institution:
        return f"镇（街道）：{sheet.township_name}    村（社区）：{sheet.unit_name}"
    if sheet.manager_masked_id_number:
        pdf.cell_text(MASKED_ID, sheet.manager_masked_id_number)
    return (
        f"镇（街道）：{sheet.township_name}    供养机构：{sheet.unit_name}\n"
        f"领取人（机构负责人）：{sheet.manager_name or ''}    "
        f"身份证号：{sheet.manager_masked_id_number or ''}    "
        f"电话：{sheet.manager_phone or ''}"
    )


def _sign_off_parties(sheet: SignOffSheet) -> tuple:
    if sheet.is_institution:
        return ("机构负责人（领取人）", "镇（街道）经办人")
    return ("村（居）委会经办人", "镇（街道）经办人")


def _sign_off_title(sheet: SignOffSheet) -> str:
    return f"{sheet.campaign_name}签领表（{sheet.unit_name}）"


def render_sign_off_xlsx(sheet: SignOffSheet) -> bytes:
    """Render a village's or an institution's sign-off sheet (签领表) as XLSX."""
    workbook_sheet = Sheet(
        name="签领表",
        title=_sign_off_title(sheet),
        subtitle=_sign_off_subtitle(sheet),
        columns=SIGN_OFF_COLUMNS,
        rows=_sign_off_rows(sheet),
        totals=_sign_off_totals(sheet),
        sign_off=_sign_off_parties(sheet),
    )
    return build_workbook([workbook_sheet])


def render_sign_off_pdf(sheet: SignOffSheet) -> bytes:
    """Render a sign-off sheet as a PDF with rows tall enough to sign in."""
    title = _sign_off_title(sheet)
    flowables = pdf.title_flowables(title, _sign_off_subtitle(sheet))
    flowables.append(
        pdf.table_flowable(
            SIGN_OFF_COLUMNS,
            _sign_off_rows(sheet),
            pdf.frame_width(),
            _sign_off_totals(sheet),
            row_height=10 * mm,
        )
    )
    flowables += pdf.sign_off_flowables(_sign_off_parties(sheet))
    return pdf.build_document(flowables, title)
