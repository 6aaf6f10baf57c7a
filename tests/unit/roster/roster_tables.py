"""Helpers of the roster import tests: small CSV and XLSX tables, fake divisions.

Imported by the test modules beside it (pytest puts this folder on ``sys.path``).
"""

import csv

import openpyxl

from services.roster.domain.divisions import District, Township
from services.roster.domain.idnumber import check_character

YANCHENG_CODE = "411103"
YANCHENG_TOWNSHIPS = {
    "沙北街道": "411103001000",
    "龙塔街道": "411103002000",
    "淞江街道": "411103003000",
    "孟庙镇": "411103101000",
    "商桥镇": "411103102000",
    "裴城镇": "411103103000",
    "新店镇": "411103104000",
    "龙城镇": "411103105000",
    "李集镇": "411103106000",
    "黑龙潭镇": "411103107000",
}


class FakeDivisions:
    """The ten townships of Yancheng District, matched by exact name only."""

    def __init__(self, extra: dict | None = None):
        names = YANCHENG_TOWNSHIPS | (extra or {})
        self.townships = {name: Township(code, name) for name, code in names.items()}

    def district(self, code6):
        townships = tuple(t for t in self.townships.values() if t.code[:6] == code6)
        return District(code6, "郾城区", "漯河市", "河南省", townships)

    def resolve_township(self, district_code6, name):
        township = self.townships.get(name)
        if township is None:
            return None
        # Like a resolver misconfigured for the whole city: the importer must check.
        return township if district_code6 == YANCHENG_CODE else None


def make_id(birth: str, sequence: int = 1, area: str = "411103") -> str:
    """A valid 18-character ID number: area, birth date YYYYMMDD, sequence, check."""
    first17 = f"{area}{birth}{sequence:03d}"
    return first17 + check_character(first17)


def write_csv(path, rows, encoding="gb18030"):
    """Write ``rows`` (lists of cells, title and header rows included) as CSV."""
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def write_xlsx(path, rows, sheet="花名册", merge_title=True, extra_sheets=()):
    """Write ``rows`` to one sheet, the first row merged across like a title."""
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    for row in rows:
        worksheet.append(list(row))
    if merge_title and rows:
        width = max(len(row) for row in rows)
        worksheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    for title, extra_rows in extra_sheets:
        extra = workbook.create_sheet(title)
        for row in extra_rows:
            extra.append(list(row))
    workbook.save(path)
    return path
