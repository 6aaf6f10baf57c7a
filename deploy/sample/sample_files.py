"""Write sample rosters shaped like civil-affairs exports.

The low-income list is a GB18030 CSV with a title row, a header, blank rows between
pages and a totals row (合计). The extreme-poverty list is an XLSX sheet with a
merged title row, support-mode and institution columns and a totals row. Both
writers give the same bytes for the same rows, so a regenerated sample does not
change in git.
"""

import csv
import io
from datetime import datetime
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from deploy.sample.sample_plan import Row

DIBAO_HEADER = (
    "序号", "姓名", "身份证号码", "性别", "与户主关系", "保障类别", "乡镇（街道）",
    "村（社区）", "联系电话", "月保障金额（元）", "备注",
)
TEKUN_HEADER = (
    "序号", "姓名", "公民身份号码", "性别", "供养方式", "供养机构", "所属乡镇",
    "所在村（居）", "联系电话", "备注",
)
CATEGORY_LABELS = {"urban_dibao": "城市低保", "rural_dibao": "农村低保"}
MONTHLY_AMOUNTS = {"urban_dibao": (510, 420, 350), "rural_dibao": (420, 350, 280)}
# A blank row follows every this many data rows, as between printed pages.
PAGE_ROWS = 100
# Zip entries get this time stamp instead of the time of writing.
ZIP_TIME = (2000, 1, 1, 0, 0, 0)


def gender(row: Row) -> str:
    return "男" if row.person.male else "女"


def monthly_amount(row: Row) -> int:
    amounts = MONTHLY_AMOUNTS[row.person.category]
    return amounts[int(row.person.id18[14:17]) % len(amounts)]


def dibao_cells(number: int, row: Row) -> list:
    person = row.person
    return [
        number, row.name, row.id_cell, gender(row), person.relation,
        CATEGORY_LABELS[person.category], row.township, person.village,
        person.phone, monthly_amount(row), "",
    ]


def write_dibao_csv(path: Path, rows: list[Row], title: str) -> None:
    """Write the low-income rows as a GB18030 CSV with CRLF line ends."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    blank = [""] * len(DIBAO_HEADER)
    writer.writerow([title] + blank[1:])
    writer.writerow(DIBAO_HEADER)
    for number, row in enumerate(rows, start=1):
        writer.writerow(dibao_cells(number, row))
        if number % PAGE_ROWS == 0 and number < len(rows):
            writer.writerow(blank)
    writer.writerow(["合计", f"{len(rows)}人"] + blank[2:])
    path.write_bytes(buffer.getvalue().encode("gb18030"))


def tekun_cells(number: int, row: Row) -> list:
    id_cell = row.id_cell if row.id_cell != "" else None
    return [
        number, row.name, id_cell, gender(row),
        "集中供养" if row.institutional else "分散供养",
        row.institution, row.township, row.person.village, row.person.phone, None,
    ]


def write_tekun_xlsx(
    path: Path, rows: list[Row], title: str, stamp: datetime
) -> None:
    """Write the extreme-poverty rows as one sheet, with ``stamp`` as file time."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "特困人员"
    sheet.append([title])
    sheet.merge_cells(
        start_row=1, start_column=1, end_row=1, end_column=len(TEKUN_HEADER)
    )
    sheet.append(TEKUN_HEADER)
    for number, row in enumerate(rows, start=1):
        sheet.append(tekun_cells(number, row))
    sheet.append(["合计", len(rows)])
    workbook.properties.creator = "Aixin sample generator"
    workbook.properties.created = stamp
    save_reproducibly(workbook, path, stamp)


class _FixedTimeZip(ZipFile):
    """A zip file whose entries all carry :data:`ZIP_TIME`."""

    def writestr(self, zinfo_or_arcname, data, *args, **kwargs):
        if isinstance(zinfo_or_arcname, str):
            zinfo_or_arcname = ZipInfo(zinfo_or_arcname, date_time=ZIP_TIME)
            zinfo_or_arcname.compress_type = ZIP_DEFLATED
        super().writestr(zinfo_or_arcname, data, *args, **kwargs)

    def write(self, filename, arcname=None, *args, **kwargs):
        # openpyxl writes each worksheet from a temporary file, whose time must go.
        self.writestr(arcname or Path(filename).name, Path(filename).read_bytes())


def save_reproducibly(workbook: Workbook, path: Path, stamp: datetime) -> None:
    """Save like ``Workbook.save``, but with fixed times: equal input, equal bytes.

    ``Workbook.save`` (openpyxl 3.1) stamps the file with the current time, so this
    writes through ``ExcelWriter`` directly.
    """
    workbook.properties.modified = stamp
    with _FixedTimeZip(path, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(workbook, archive).save()
