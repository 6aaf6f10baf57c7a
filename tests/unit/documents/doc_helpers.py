"""Helpers that open rendered documents: XLSX through openpyxl, PDF through poppler.

Text extraction needs ``pdftotext`` from Debian's poppler-utils; tests that read
PDF text are skipped without it, while the page count falls back to counting page
objects in the file (reportlab writes them uncompressed).
"""

import io
import re
import shutil
import subprocess

import openpyxl
import pytest


def open_sheet(data: bytes, name: str | None = None):
    """Load XLSX bytes and return the named worksheet, or the first one."""
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return workbook[name] if name else workbook.worksheets[0]


def sheet_rows(data: bytes, name: str | None = None) -> list[tuple]:
    """Return every row of a worksheet as a tuple of cell values."""
    return list(open_sheet(data, name).iter_rows(values_only=True))


def find_row(rows: list[tuple], first_value) -> tuple:
    """Return the first row whose first cell is ``first_value``."""
    for row in rows:
        if row and row[0] == first_value:
            return row
    raise AssertionError(f"no row starts with {first_value!r}")


def pdf_text(data: bytes) -> str:
    """Extract the text of a PDF with pdftotext, skipping the test without it."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    result = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    )
    return result.stdout.decode("utf-8")


def pdf_page_count(data: bytes) -> int:
    """Count the pages of a PDF written by reportlab."""
    return len(re.findall(rb"/Type /Page\b(?!s)", data))


def pdf_compact_text(data: bytes) -> str:
    """Return the PDF text without whitespace, which pdftotext drops around CJK."""
    return re.sub(r"\s+", "", pdf_text(data))
