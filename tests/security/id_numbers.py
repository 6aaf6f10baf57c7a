"""Finding full resident ID numbers (GB 11643-1999) in text, files and databases.

A candidate is any run of 17 digits and a digit or X. It counts as an ID number only
when its check character is right and characters 7-14 are a real birth date. That
rules out 18-digit voucher serials: a serial begins with 0, which no region code
does, and its characters 7-14 are part of a township code, not a date.
"""

import re
import sqlite3
import zipfile
import zlib
from datetime import date
from pathlib import Path

CANDIDATE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])")
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
PDF_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)


def is_id_number(text: str) -> bool:
    """Return whether 18 characters are a valid GB 11643 number with a real birth date."""
    if len(text) != 18 or not text[:17].isdigit() or text[0] in "09":
        return False
    total = sum(int(digit) * weight for digit, weight in zip(text[:17], WEIGHTS))
    if CHECK_CHARACTERS[total % 11] != text[17].upper():
        return False
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return False
    return 1880 <= born.year <= 2100


def find_in_text(text: str) -> list[str]:
    return [match for match in CANDIDATE.findall(text) if is_id_number(match)]


def find_in_bytes(content: bytes) -> list[str]:
    return find_in_text(content.decode("utf-8", "replace"))


def find_in_file(path: Path) -> list[str]:
    """Search a file, looking inside XLSX members and compressed PDF streams."""
    content = path.read_bytes()
    found = find_in_bytes(content)
    if content[:2] == b"PK":
        with zipfile.ZipFile(path) as archive:
            for member in archive.infolist():
                found += find_in_bytes(archive.read(member))
    if content[:5] == b"%PDF-":
        for stream in PDF_STREAM.findall(content):
            try:
                found += find_in_bytes(zlib.decompress(stream))
            except zlib.error:
                continue
    return found


def find_in_tables(database: Path, tables: tuple[str, ...]) -> dict[str, list[str]]:
    """Search every text column of the named tables of a SQLite file that exist."""
    found = {}
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        existing = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table in tables:
            if table not in existing:
                continue
            hits = []
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, bytes):
                        hits += find_in_bytes(value)
                    elif value is not None:
                        hits += find_in_text(str(value))
            if hits:
                found[table] = hits
    finally:
        connection.close()
    return found


def table_names(database: Path) -> list[str]:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
    finally:
        connection.close()
