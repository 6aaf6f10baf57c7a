"""Opening uploaded XLSX files safely: every XLSX reader goes through ``open_workbook``.

An XLSX file is a zip archive, and a zip bomb of a few kilobytes can declare a sheet
XML of gigabytes that openpyxl would inflate while it parses. ``check_xlsx`` reads
only the zip's central directory and rejects the file before anything is inflated.
The declared sizes are binding: Python's ``zipfile`` stops a member at its declared
uncompressed size and fails its CRC check if the data goes on.
"""

import warnings
import zipfile

from aixin.errors import InvalidInput

# Limits on what the central directory declares. The committed sample roster's sheet
# XML compresses 7:1 and takes about 70 bytes a person, so a district roster of
# 100,000 persons stays far below both limits.
# NOTE: the limits are estimates from that sample, not from real bureau exports.
MAX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024
MAX_MEMBERS = 10_000
MAX_RATIO = 200
# Small members (styles, an empty sheet) may compress far better than 200:1.
RATIO_CHECKED_ABOVE_BYTES = 1024 * 1024


def check_xlsx(source, filename: str) -> None:
    """Raise InvalidInput unless ``source`` is a zip whose declared sizes are sane.

    ``source`` is a path or a seekable binary file; a file is rewound afterwards.
    """
    position = source.tell() if hasattr(source, "tell") else None
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InvalidInput(
            "xlsx_invalid",
            f"文件 {filename} 不是有效的 XLSX 文件：请用表格软件另存为 .xlsx 后重新上传。",
            filename=filename) from None
    finally:
        if position is not None:
            source.seek(position)
    if len(members) > MAX_MEMBERS:
        raise _too_large(filename)
    total = 0
    for member in members:
        total += member.file_size
        if total > MAX_UNCOMPRESSED_BYTES:
            raise _too_large(filename)
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_CHECKED_ABOVE_BYTES and ratio > MAX_RATIO:
            raise InvalidInput(
                "xlsx_compression_suspicious",
                f"文件 {filename} 的压缩比异常（{member.filename} 解压后是压缩时的 "
                f"{ratio:.0f} 倍，上限 {MAX_RATIO} 倍），可能是恶意构造的文件，已拒绝："
                "请用表格软件重新导出后上传。", filename=filename)


def _too_large(filename: str) -> InvalidInput:
    return InvalidInput(
        "xlsx_too_large",
        f"文件 {filename} 解压后超过 {MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB"
        f"（或超过 {MAX_MEMBERS} 个部件）：请拆分为多个文件后分别上传。",
        filename=filename)


def open_workbook(source, filename: str):
    """Check ``source`` with ``check_xlsx``, then open it read-only with cached values."""
    import openpyxl  # imported here: CSV-only callers do not pay for it

    check_xlsx(source, filename)
    with warnings.catch_warnings():
        # Exports written by other tools often lack a default style; harmless.
        warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
        try:
            return openpyxl.load_workbook(source, read_only=True, data_only=True)
        except (KeyError, ValueError, TypeError, zipfile.BadZipFile) as error:
            raise InvalidInput(
                "xlsx_invalid",
                f"文件 {filename} 不是有效的 XLSX 文件（{type(error).__name__}）：请用表格"
                "软件另存为 .xlsx 后重新上传。", filename=filename) from None
