"""Importing a campaign's roster files into one draft snapshot.

Reading and checking the files needs no database, so it runs before the transaction.
The transaction then stores the snapshot, its report, every rejected row and every
person, or nothing. Persons are inserted in pages of thousands of rows per statement,
never one statement per row.
"""

import functools
import hashlib
import itertools
import logging
import os
import time
import uuid
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import eventlet
from sqlalchemy import insert

from aixin.commands import record_audit
from aixin.db import data_dir
from aixin.errors import Conflict, DomainError, InvalidInput
from aixin.personal import mask_id_numbers
from aixin.pg_arrays import text_array
from services.roster import partitions
from services.roster import snapshots as snapshot_store
from services.roster.domain.divisions import DivisionIndex
from services.roster.domain.idnumber import mask_id
from services.roster.domain.importer import ImportResult, RosterImport
from services.roster.domain.readers import read_roster
from services.roster.keys import RosterKeys, beneficiary_id
from services.roster.models import persons, rejections, snapshots

log = logging.getLogger(__name__)

INSERT_BATCH_ROWS = 1000
# Rows per INSERT on PostgreSQL, about 4 MB of column arrays. For a million persons
# (one run each, docs/benchmarks.md) 5,000 took 2.5 s longer to insert, and 20,000
# 2.3 s less but with 28 MiB more peak memory.
POSTGRES_PAGE_ROWS = 10000
# Reading 1,000 rows took about 0.04 s in the 1,000,000-person roster benchmark
# (docs/benchmarks.md), so other green threads wait about that long at most.
YIELD_EVERY_ROWS = 1000
CHUNK_BYTES = 1024 * 1024


def upload_dir() -> Path:
    """The folder the gateway stores uploads in (``AIXIN_UPLOAD_DIR``)."""
    return Path(os.environ.get("AIXIN_UPLOAD_DIR", data_dir() / "uploads")).resolve()


def check_uploads(uploads: list[dict]) -> list[dict]:
    """Resolve uploaded files inside the upload folder and hash their content.

    Returns ``{filename, path, sha256, size}`` per file, with the digest computed
    here rather than trusted from the caller.
    """
    folder = upload_dir()
    checked = []
    for upload in uploads:
        path = Path(upload["path"]).resolve()
        if folder not in path.parents or not path.is_file():
            raise InvalidInput("upload_not_found",
                               f"找不到上传的文件 {upload['filename']}：请重新上传。",
                               filename=upload["filename"])
        digest, size = _digest(path)
        checked.append({"filename": upload["filename"], "path": str(path),
                        "sha256": digest, "size": size})
    return checked


def discard_uploads(uploads: list[dict]) -> None:
    """Delete uploaded roster files once they are imported or definitely rejected.

    A roster export contains every full ID number in clear text, and the import keeps
    what it needs encrypted, so the upload must not outlive its import.
    """
    for upload in uploads:
        try:
            os.unlink(upload["path"])
        except FileNotFoundError:
            continue
        except OSError as error:
            log.error("could not delete uploaded file sha256=%s error=%s",
                      upload["sha256"], error)
            continue
        log.info("deleted uploaded file sha256=%s", upload["sha256"])


@contextmanager
def uploads_discarded(uploads: list[dict]):
    """Delete the uploads after the block, unless it failed unexpectedly.

    After a success or a DomainError the files are no longer needed. After any other
    error (a database outage, say) they stay, so the client can retry.
    """
    try:
        yield
    except DomainError:
        discard_uploads(uploads)
        raise
    discard_uploads(uploads)


def _digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK_BYTES), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def content_hash(uploads: list[dict]) -> str:
    """Hash the set of file digests: the same files in any order hash the same."""
    joined = "\n".join(sorted(upload["sha256"] for upload in uploads))
    return hashlib.sha256(joined.encode("ascii")).hexdigest()


def snapshot_month_start(campaign: dict) -> date:
    year, month = campaign["snapshot_month"].split("-")
    return date(int(year), int(month), 1)


def read_files(uploads: list[dict], campaign: dict) -> ImportResult:
    """Read and check every file; the result streams its beneficiaries.

    Reading is CPU work that would hold the eventlet hub for the whole file, so the
    rows pass through :func:`_cooperative`, which lets other green threads (RPCs,
    the outbox relay, AMQP heartbeats) run every ``YIELD_EVERY_ROWS`` rows.
    """
    started = time.perf_counter()
    roster_import = RosterImport(campaign["district_code"], DivisionIndex.load(),
                                 snapshot_month_start(campaign))
    for upload in uploads:
        rows = read_roster(upload["path"], upload["filename"])
        roster_import.add_rows(_cooperative(rows))
    result = roster_import.finish()
    log.info("roster files read campaign_id=%s rows_read=%d seconds=%.1f",
             campaign["campaign_id"], result.rows_read, time.perf_counter() - started)
    return result


def _cooperative(items):
    """Yield ``items`` unchanged, switching to other green threads now and then."""
    for count, item in enumerate(items, start=1):
        if count % YIELD_EVERY_ROWS == 0:
            eventlet.sleep(0)
        yield item


def store_snapshot(session, campaign: dict, result: ImportResult, uploads: list,
                   digest: str, keys: RosterKeys, actor: dict, now) -> dict:
    """Store the draft snapshot with its report, rejections and persons."""
    campaign_id = campaign["campaign_id"]
    existing = snapshot_store.find_by_content(session, campaign_id, digest)
    if existing is not None:
        return {**snapshot_store.snapshot_summary(existing), "replayed": True}
    if snapshot_store.published_snapshot(session, campaign_id) is not None:
        raise Conflict("roster_already_published",
                       f"活动 {campaign_id} 的花名册已发布，不能再导入新名册：请以更正"
                       "（增补、删除、变更）的方式修改名册。", campaign_id=campaign_id)
    snapshot_id = uuid.uuid4().hex
    report = result.summary()
    session.execute(insert(snapshots).values(
        snapshot_id=snapshot_id, campaign_id=campaign_id, content_hash=digest,
        status=snapshot_store.DRAFT,
        files=[{key: upload[key] for key in ("filename", "sha256", "size")}
               for upload in uploads],
        report=report, imported_at=now, imported_by=actor["name"]))
    _insert_rejections(session, snapshot_id, result)
    stored = _insert_persons(session, campaign_id, snapshot_id, result, keys)
    if stored != result.beneficiary_count:
        raise RuntimeError(f"stored {stored} persons for {result.beneficiary_count} "
                           f"beneficiaries snapshot_id={snapshot_id}")
    record_audit(session, now, actor["name"], "import_roster", snapshot_id,
                 campaign_id=campaign_id, content_hash=digest,
                 rows_read=result.rows_read, beneficiaries=result.beneficiary_count)
    log.info("roster snapshot stored campaign_id=%s snapshot_id=%s rows_read=%d "
             "rejected=%d beneficiaries=%d", campaign_id, snapshot_id,
             result.rows_read, result.rejected_rows, result.beneficiary_count)
    row = snapshot_store.load_snapshot(session, campaign_id, snapshot_id)
    return {**snapshot_store.snapshot_summary(row), "replayed": False}


def _insert_rejections(session, snapshot_id: str, result: ImportResult) -> None:
    batch = []
    for position, rejection in enumerate(result.rejections, start=1):
        value = mask_id_numbers(rejection.value) if rejection.value else rejection.value
        batch.append({
            "snapshot_id": snapshot_id, "position": position,
            "file": rejection.file, "sheet": rejection.sheet,
            "row_number": rejection.row, "column": rejection.column,
            "value": value, "reason": rejection.reason,
            "message": mask_id_numbers(rejection.message)})
        if len(batch) >= INSERT_BATCH_ROWS:
            session.execute(insert(rejections), batch)
            batch = []
    if batch:
        session.execute(insert(rejections), batch)


def _insert_persons(session, campaign_id: str, snapshot_id: str,
                    result: ImportResult, keys: RosterKeys) -> int:
    """Insert every beneficiary in pages; return how many rows were inserted.

    The next page's rows (encryption and hashes, CPU work) are built in a green
    thread while the database inserts the current page. Only this green thread
    uses the session. Without eventlet's monkey patching the two steps simply
    alternate. On PostgreSQL the rows fill the snapshot's own partition, one
    ``INSERT ... SELECT FROM unnest`` of column arrays per page, and its indexes
    are built at the end (:mod:`services.roster.partitions`). Elsewhere a page is
    one multi-row insert into ``persons``.
    """
    beneficiaries = result.iter_person_fields()
    postgres = session.get_bind().dialect.name == "postgresql"
    page_rows = POSTGRES_PAGE_ROWS if postgres else INSERT_BATCH_ROWS
    if postgres:
        connection = session.connection()
        table = partitions.create_partition(connection, snapshot_id)
        statement = _UNNEST_INSERT.format(table=table)

    def next_page() -> list[tuple]:
        page = []
        for beneficiary in itertools.islice(beneficiaries, page_rows):
            page.append(person_values(campaign_id, snapshot_id, beneficiary, keys))
            if len(page) % YIELD_EVERY_ROWS == 0:
                eventlet.sleep(0)
        return page

    started = time.perf_counter()
    stored = 0
    building = eventlet.spawn(next_page)
    while True:
        page = building.wait()
        if not page:
            break
        building = eventlet.spawn(next_page)
        try:
            if postgres:
                connection.exec_driver_sql(
                    statement, tuple(text_array(column)
                                     for column in zip(*page, strict=True)))
            else:
                session.execute(insert(persons),
                                [dict(zip(PERSON_COLUMNS, values, strict=True))
                                 for values in page])
        except BaseException:
            building.kill()
            raise
        stored += len(page)
    inserted = time.perf_counter()
    if postgres:
        partitions.index_and_attach(connection, snapshot_id)
    log.info("persons stored snapshot_id=%s persons=%d insert_seconds=%.1f "
             "index_seconds=%.1f", snapshot_id, stored, inserted - started,
             time.perf_counter() - inserted)
    return stored


PERSON_COLUMNS = ("snapshot_id", "beneficiary_id", "id_hash", "id_encrypted",
                  "masked_id", "name", "township_code", "township_name", "village",
                  "categories", "support_mode", "institution", "added_by")
_UNNEST_INSERT = (
    f"INSERT INTO {{table}} ({', '.join(PERSON_COLUMNS)}) SELECT * FROM unnest("
    + ", ".join(["%s::text[]"] * len(PERSON_COLUMNS)) + ")")


def person_values(campaign_id: str, snapshot_id: str, beneficiary, keys: RosterKeys,
                  added_by: str | None = None) -> tuple:
    """The ``persons`` row of a Beneficiary or PersonFields, as PERSON_COLUMNS."""
    id_number = beneficiary.id_number
    id_hash = keys.id_hash(id_number)
    return (snapshot_id, beneficiary_id(campaign_id, id_hash), id_hash,
            keys.encrypt(id_number), _masked(id_number), beneficiary.name,
            beneficiary.township_code, beneficiary.township_name, beneficiary.village,
            _joined_categories(beneficiary.categories), beneficiary.support_mode,
            beneficiary.institution, added_by)


def _masked(id_number: str) -> str:
    """mask_id of a normalised ID number, quicker for the usual 18 characters."""
    if len(id_number) == 18:
        return id_number[:6] + "********" + id_number[14:]
    return mask_id(id_number)


@functools.lru_cache(maxsize=16)
def _joined_categories(categories: frozenset) -> str:
    return ",".join(sorted(categories))


def person_row(campaign_id: str, snapshot_id: str, beneficiary, keys: RosterKeys,
               added_by: str | None = None) -> dict:
    """Return the ``persons`` row of a domain Beneficiary: its ID number encrypted."""
    values = person_values(campaign_id, snapshot_id, beneficiary, keys, added_by)
    return dict(zip(PERSON_COLUMNS, values, strict=True))
