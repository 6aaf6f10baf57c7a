"""On PostgreSQL each snapshot's persons are one partition, built by its import."""

import shutil
import uuid
from datetime import datetime, timezone

import pytest
from alembic import command
from cryptography.fernet import Fernet
from roster_system import CAMPAIGN, TEST_FILES
from sqlalchemy import func, select, text

from aixin.db import Database, migrate
from services.roster import imports
from services.roster.keys import keys_from_environment
from services.roster.models import persons

NOW = datetime(2023, 1, 5, 9, tzinfo=timezone.utc)
ACTOR = {"name": "partition test"}


def person(snapshot_id: str, number: int) -> dict:
    return {"snapshot_id": snapshot_id, "beneficiary_id": f"b{number:019d}",
            "id_hash": f"{number:064x}", "id_encrypted": "A1.x",
            "masked_id": "411103********1234", "name": "张三",
            "township_code": "411103100000", "township_name": "城关镇",
            "village": None, "categories": "tekun", "support_mode": "dispersed",
            "institution": None, "added_by": None}


def partitions_of(database: Database) -> list[str]:
    with database.reading() as session:
        return sorted(session.execute(text(
            "SELECT inhrelid::regclass::text FROM pg_inherits "
            "WHERE inhparent = 'persons'::regclass")).scalars())


@pytest.fixture
def roster_database(postgres_database):
    url = postgres_database("roster")
    migrate("roster", url)
    database = Database(url)
    yield database
    database.dispose()


@pytest.fixture
def read_roster(tmp_path, monkeypatch):
    """Read the test roster files as the service does; return the upload and result."""
    monkeypatch.setenv("AIXIN_UPLOAD_DIR", str(tmp_path))
    uploads = []
    for file in TEST_FILES:
        shutil.copy(file, tmp_path / file.name)
        uploads.append({"filename": file.name, "path": str(tmp_path / file.name)})
    checked = imports.check_uploads(uploads)
    return checked, imports.read_files(checked, {**CAMPAIGN})


def store(database, read_roster, fail_after: bool = False) -> dict:
    uploads, result = read_roster
    keys = keys_from_environment({"ROSTER_ENCRYPTION_KEY": Fernet.generate_key()
                                  .decode(), "ROSTER_HASH_KEY": "k" * 40})
    with database.transaction() as session:
        summary = imports.store_snapshot(session, CAMPAIGN, result, uploads,
                                         uuid.uuid4().hex * 2, keys, ACTOR, NOW)
        if fail_after:
            raise RuntimeError("a later step of the command failed")
    return summary


class TestSnapshotPartitions:
    def test_import_fills_a_partition_of_its_own(self, roster_database, read_roster):
        summary = store(roster_database, read_roster)
        snapshot_id = summary["snapshot_id"]
        assert partitions_of(roster_database) == [f"persons_{snapshot_id}"]
        with roster_database.reading() as session:
            stored = session.execute(select(func.count()).select_from(persons).where(
                persons.c.snapshot_id == snapshot_id)).scalar()
            indexes = session.execute(text(
                "SELECT count(*) FROM pg_index "
                "WHERE indrelid = CAST(:table AS regclass)"),
                {"table": f"persons_{snapshot_id}"}).scalar()
        assert stored == summary["beneficiaries"]
        assert indexes == 3  # primary key, township and ID hash, as on persons

    def test_failed_import_leaves_no_partition(self, roster_database, read_roster):
        with pytest.raises(RuntimeError):
            store(roster_database, read_roster, fail_after=True)
        assert partitions_of(roster_database) == []
        with roster_database.reading() as session:
            tables = session.execute(text(
                "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'persons_%'"
            )).scalar()
        assert tables == 0

    def test_person_added_later_joins_the_partition(self, roster_database,
                                                    read_roster):
        snapshot_id = store(roster_database, read_roster)["snapshot_id"]
        with roster_database.transaction() as session:
            session.execute(persons.insert().values(**person(snapshot_id, 1)))
        with roster_database.reading() as session:
            found = session.execute(text(
                f"SELECT count(*) FROM persons_{snapshot_id} "
                "WHERE beneficiary_id = :id"), {"id": person(snapshot_id, 1)[
                    "beneficiary_id"]}).scalar()
        assert found == 1


class TestPartitionMigration:
    def test_existing_persons_move_into_partitions_and_back(self, postgres_database):
        url = postgres_database("roster")
        migrate("roster", url, "0001")
        first, second = uuid.uuid4().hex, uuid.uuid4().hex
        database = Database(url)
        try:
            with database.transaction() as session:
                session.execute(persons.insert(), [
                    person(first, 1), person(first, 2), person(second, 3)])
            migrate("roster", url)
            assert partitions_of(database) == sorted(
                [f"persons_{first}", f"persons_{second}"])
            with database.reading() as session:
                assert session.execute(select(func.count()).select_from(persons)
                                       .where(persons.c.snapshot_id == first)
                                       ).scalar() == 2
            command.downgrade(_alembic_config(url), "0001")
            with database.reading() as session:
                assert session.execute(select(func.count()).select_from(persons)
                                       ).scalar() == 3
            assert partitions_of(database) == []
        finally:
            database.dispose()


def _alembic_config(url: str):
    from alembic.config import Config

    from aixin.db import REPO_ROOT
    config = Config()
    config.set_main_option("script_location",
                           str(REPO_ROOT / "services" / "roster" / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config
