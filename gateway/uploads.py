"""Uploaded files: kept in a content-addressed folder that the services can read.

The gateway stores each upload under ``AIXIN_UPLOAD_DIR`` (default ``data/uploads``)
as ``<sha256><extension>`` and passes the path over RPC, because roster files can be far
larger than an RPC message should be. In docker-compose the folder is a volume shared by
the gateway and the services that read uploads.
"""

import hashlib
import logging
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

from aixin.db import data_dir
from aixin.errors import DomainError, InvalidInput

log = logging.getLogger(__name__)

ALLOWED_EXTENSIONS = {".csv", ".xlsx"}
CHUNK_BYTES = 1024 * 1024


def upload_dir() -> Path:
    folder = Path(os.environ.get("AIXIN_UPLOAD_DIR", data_dir() / "uploads"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def safe_filename(name: str) -> str:
    """Keep only the last path component and harmless characters of a client's name."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "_", base).strip(" .")
    return base[:120] or "upload"


def save_uploads(files, allowed=ALLOWED_EXTENSIONS) -> list[dict]:
    """Store werkzeug FileStorage objects and return each one's name, path, sha256,
    size and ``created``, true unless the same content was already stored.

    A rejected file rejects the whole request, and the files stored before it are
    deleted again.
    """
    saved = []
    with discarded_if_rejected(saved):
        for storage in files:
            name = safe_filename(storage.filename)
            extension = Path(name).suffix.lower()
            if extension not in allowed:
                raise InvalidInput(
                    "unsupported_file_type",
                    f"文件 {name} 的类型 {extension or '（无扩展名）'} 不受支持：请上传 "
                    f"{'、'.join(sorted(allowed))} 文件。", filename=name)
            saved.append(_store(storage.stream, name, extension))
    if not saved:
        raise InvalidInput("missing_file", "没有收到文件：请在表单字段 files 中上传文件。")
    return saved


@contextmanager
def discarded_if_rejected(saved: list[dict]):
    """Delete the files this request stored if the block raises a DomainError.

    A file that was already in the folder before this request (the same content
    uploaded earlier and accepted) stays. Other errors, such as a timed-out RPC that
    the service may still run later, leave the files in place.
    NOTE: two concurrent requests with the same content share one file, so when the
    first is rejected, the service may no longer find the second one's file.
    """
    try:
        yield
    except DomainError:
        for upload in saved:
            if upload.get("created"):
                _delete(upload)
        raise


def _delete(upload: dict) -> None:
    try:
        os.unlink(upload["path"])
    except FileNotFoundError:
        return
    except OSError as error:
        log.error("could not delete rejected upload sha256=%s error=%s",
                  upload["sha256"], error)
        return
    log.info("deleted rejected upload sha256=%s", upload["sha256"])


def _store(stream, name: str, extension: str) -> dict:
    digest = hashlib.sha256()
    size = 0
    folder = upload_dir()
    with tempfile.NamedTemporaryFile(dir=folder, delete=False) as temporary:
        for chunk in iter(lambda: stream.read(CHUNK_BYTES), b""):
            digest.update(chunk)
            size += len(chunk)
            temporary.write(chunk)
    if size == 0:
        os.unlink(temporary.name)
        raise InvalidInput("empty_file", f"文件 {name} 是空的：请检查后重新上传。",
                           filename=name)
    target = folder / f"{digest.hexdigest()}{extension}"
    created = not target.exists()
    os.replace(temporary.name, target)
    return {"filename": name, "path": str(target), "sha256": digest.hexdigest(),
            "size": size, "created": created}
