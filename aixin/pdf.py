"""PDF tables in Chinese on reportlab, for documents that are printed and signed.

Text is set in STSong-Light, one of the Adobe CJK CID fonts that reportlab can use
without a font file. The font is referenced, not embedded: a viewer shows the text
with its own Chinese font (Acrobat's Asian font pack, or a system font that
poppler and most browsers substitute), so the files stay small.
"""

import io
from datetime import date, datetime
from typing import Any, Iterable, Sequence
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    KeepTogether,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)

from aixin.clock import as_local
from aixin.money import format_yuan
from aixin.spreadsheet import (
    DATE,
    DATETIME,
    INTEGER,
    MASKED_ID,
    MONEY,
    PERCENT,
    Column,
    add_to_sums,
    check_masked,
    display_width,
    sign_off_line,
    totals_row,
)

CJK_FONT = "STSong-Light"
MARGIN = 15 * mm
NUMERIC_KINDS = (MONEY, INTEGER, PERCENT)

# STSong-Light's UniGB-UCS2-H encoding has no glyph for U+00B7, the middle dot of
# names such as 买买提·艾力, nor for its look-alikes, but it has U+30FB, which
# poppler both draws and extracts as a middle dot. The minus sign U+2212 is
# missing too and becomes the full-width hyphen-minus.
_REPLACEMENTS = dict.fromkeys("\u00b7\u2022\u2027\u2219\uff65", "\u30fb")
_REPLACEMENTS["\u2212"] = "\uff0d"
_PRINTABLE = str.maketrans(_REPLACEMENTS)


def register_cjk_font() -> str:
    """Register the CJK font with reportlab once per process and return its name."""
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


def paragraph_style(size: float = 9, align: int = 0, leading: float | None = None):
    """Return a paragraph style in the CJK font that wraps between any characters."""
    return ParagraphStyle(
        f"cjk-{size}-{align}",
        fontName=register_cjk_font(),
        fontSize=size,
        leading=leading or size * 1.3,
        alignment=align,
        wordWrap="CJK",
    )


def printable(content: str) -> str:
    """Replace characters that STSong-Light cannot show by ones it can."""
    return content.translate(_PRINTABLE)


def text(content: str, size: float = 9, align: int = 0) -> Paragraph:
    """Return a paragraph of plain text, with markup characters escaped."""
    return Paragraph(escape(printable(content)), paragraph_style(size, align))


def cell_text(kind: str, value: Any) -> str:
    """Format one plain value as a PDF table cell shows it (yuan, percent, dates)."""
    if value is None:
        return ""
    if kind == MASKED_ID:
        check_masked(value)
    if isinstance(value, str):
        return value
    if kind == MONEY:
        return format_yuan(value)
    if kind == PERCENT:
        return f"{value * 100:.2f}%"
    if kind == DATETIME and isinstance(value, datetime):
        return as_local(value).strftime("%Y-%m-%d %H:%M")
    if kind == DATE and isinstance(value, date):
        return value.isoformat()
    return str(value)


def title_flowables(title: str, subtitle: str | None = None) -> list:
    """Return the centred title and subtitle lines (split at newlines)."""
    flowables = [text(title, 16, TA_CENTER), Spacer(1, 3 * mm)]
    if subtitle:
        flowables += [text(line, 10, TA_CENTER) for line in subtitle.split("\n")]
        flowables.append(Spacer(1, 4 * mm))
    return flowables


def table_flowable(
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    width: float,
    totals: bool | Sequence[Any] | None = None,
    row_height: float | None = None,
) -> LongTable:
    """Return a table whose header row repeats on every page.

    ``totals`` works as in aixin.spreadsheet.Sheet: True sums the MONEY and INTEGER
    columns, a sequence is written as given, and both sit on a shaded last row.
    ``row_height`` (points) sets a minimum height for body rows, room for a pen.
    """
    rows = [list(row) for row in rows]
    for row in rows:
        if len(row) != len(columns):
            raise ValueError(f"row has {len(row)} values for {len(columns)} columns")
    if totals is True:
        sums = [0] * len(columns)
        for row in rows:
            add_to_sums(sums, columns, row)
        totals = totals_row(columns, sums)
    body = rows + ([list(totals)] if totals else [])

    header = [text(column.header, 9, TA_CENTER) for column in columns]
    data = [header] + [_row_cells(columns, row) for row in body]
    heights = [None] + [row_height] * len(body) if row_height else None
    widths = _column_widths(columns, rows, width)
    table = LongTable(data, colWidths=widths, rowHeights=heights, repeatRows=1)
    table.setStyle(_table_style(len(data), bool(totals)))
    return table


def _row_cells(columns: Sequence[Column], row: Sequence[Any]) -> list:
    cells = []
    for column, value in zip(columns, row):
        align = TA_RIGHT if column.kind in NUMERIC_KINDS else 0
        cells.append(text(cell_text(column.kind, value), 9, align))
    return cells


def _table_style(row_count: int, has_totals: bool) -> TableStyle:
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDE6F0")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if has_totals:
        commands.append(("BACKGROUND", (0, row_count - 1), (-1, -1), colors.whitesmoke))
    return TableStyle(commands)


def _column_widths(columns: Sequence[Column], rows: list, width: float) -> list:
    """Share ``width`` among columns in proportion to their estimated text widths."""
    weights = []
    for index, column in enumerate(columns):
        sample = [cell_text(column.kind, row[index]) for row in rows[:200]]
        widths = [display_width(column.header)] + [display_width(s) for s in sample]
        widest = max(widths)
        weights.append(column.width or min(max(widest, 4), 40))
    total = sum(weights)
    return [width * weight / total for weight in weights]


def sign_off_flowables(parties: Sequence[str]) -> list:
    """Return the lines where each party signs and dates, kept on one page."""
    if not parties:
        return []
    lines = [Spacer(1, 8 * mm)]
    for party in parties:
        lines += [text(sign_off_line(party), 10), Spacer(1, 8 * mm)]
    return [KeepTogether(lines)]


def notes_flowables(notes: Sequence[str]) -> list:
    """Return explanatory lines set below a table."""
    return [Spacer(1, 3 * mm)] + [text(note, 9) for note in notes] if notes else []


def page_size(is_landscape: bool = False) -> tuple:
    return landscape(A4) if is_landscape else A4


def frame_width(is_landscape: bool = False) -> float:
    """Return the width between the margins of an A4 page."""
    return page_size(is_landscape)[0] - 2 * MARGIN


def build_document(flowables: list, title: str, is_landscape: bool = False) -> bytes:
    """Lay out flowables on A4 pages numbered 第 N 页 共 M 页 and return the PDF bytes."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=page_size(is_landscape),
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 5 * mm,
        title=title,
        creator="Aixin",
    )
    document.build(flowables, canvasmaker=NumberedCanvas)
    return buffer.getvalue()


def build_table_pdf(
    title: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    subtitle: str | None = None,
    totals: bool | Sequence[Any] | None = None,
    notes: Sequence[str] = (),
    sign_off: Sequence[str] = (),
    is_landscape: bool = False,
) -> bytes:
    """Render one titled table with notes and sign-off lines as PDF bytes."""
    flowables = title_flowables(title, subtitle)
    flowables.append(table_flowable(columns, rows, frame_width(is_landscape), totals))
    flowables += notes_flowables(notes)
    flowables += sign_off_flowables(sign_off)
    return build_document(flowables, title, is_landscape)


class NumberedCanvas(canvas.Canvas):
    """A canvas that writes 第 N 页 共 M 页 at the foot of every page.

    The total is known only at the end, so each page's drawing state is kept until
    save() and the footers are drawn then.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._page_states = []

    def showPage(self):
        self._page_states.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._page_states)
        for state in self._page_states:
            self.__dict__.update(state)
            self._draw_page_number(total)
            super().showPage()
        super().save()

    def _draw_page_number(self, total: int) -> None:
        width = self._pagesize[0]
        self.setFont(register_cjk_font(), 9)
        footer = f"第 {self._pageNumber} 页 共 {total} 页"
        self.drawCentredString(width / 2, MARGIN / 2 + 2 * mm, footer)
