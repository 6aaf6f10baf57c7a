"""Database engines, sessions and migrations for one service's own database.

Every service owns one database named by ``<SERVICE>_DATABASE_URL``. Without it the
service uses a SQLite file ``<service>.db`` under ``AIXIN_DATA_DIR`` (default
``data/``), the embedded default. PostgreSQL URLs use psycopg2, which eventlet can make
cooperative, with timeouts so that a silent server cannot hang a worker forever.
"""

import logging
import os
import threading
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

_MIGRATION_LOCK = threading.Lock()
REPO_ROOT = Path(__file__).resolve().parent.parent
POSTGRES_CONNECT_TIMEOUT_S = 5
POSTGRES_STATEMENT_TIMEOUT_MS = 15000
SQLITE_BUSY_TIMEOUT_S = 30


def data_dir() -> Path:
    return Path(os.environ.get("AIXIN_DATA_DIR", REPO_ROOT / "data"))


def database_url(service: str, configured: str | None = None) -> str:
    """Return the database URL of ``service``: configured, from the env, or SQLite."""
    url = configured or os.environ.get(f"{service.upper()}_DATABASE_URL")
    if url:
        return url
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / f'{service}.db'}"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    if url.startswith("postgresql"):
        url = url.replace("postgresql://", "postgresql+psycopg2://", 1)
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        pool_timeout=10,
        connect_args={
            "connect_timeout": POSTGRES_CONNECT_TIMEOUT_S,
            "options": f"-c statement_timeout={POSTGRES_STATEMENT_TIMEOUT_MS}",
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
        },
    )


def _configure_sqlite(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    # WAL lets readers in other processes work while one writer commits.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def migrate(service: str, url: str, revision: str = "head") -> None:
    """Apply the alembic migrations of ``service`` to the database at ``url``."""
    script_location = REPO_ROOT / "services" / service / "migrations"
    if not script_location.is_dir():
        script_location = REPO_ROOT / service / "migrations"
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    # alembic keeps its migration context in module globals, so services that start
    # in one process (tests, the embedded demo) must migrate one at a time.
    with _MIGRATION_LOCK:
        command.upgrade(config, revision)
    log.info("migrated database service=%s revision=%s", service, revision)


class Database:
    """An engine and a session factory for one service's database."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self):
        """Yield a session inside one transaction: commit on success, else roll back."""
        with self.session_factory() as session:
            with session.begin():
                yield session

    @contextmanager
    def reading(self):
        """Yield a session for reads; nothing it does is committed."""
        with self.session_factory() as session:
            try:
                yield session
            finally:
                session.rollback()

    def dispose(self) -> None:
        self.engine.dispose()
