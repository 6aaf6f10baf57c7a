"""Database engines, sessions and migrations for one service's own database.

Every service owns one database named by ``<SERVICE>_DATABASE_URL``. Without it the
service uses a SQLite file ``<service>.db`` under ``AIXIN_DATA_DIR`` (default
``data/``), the embedded default. PostgreSQL URLs use psycopg2, which eventlet can make
cooperative, with timeouts so that a silent server cannot hang a worker forever.

The server-side ``statement_timeout`` cannot fire while the server itself is stopped,
and libpq ignores ``connect_timeout`` once a wait callback makes psycopg2 asynchronous
(as eventlet's does). So every PostgreSQL wait also has a client-side limit,
``statement_timeout`` plus a margin: past it the connection is closed and the caller
gets an ``OperationalError`` that the pool treats as a disconnect. The limits come from
``AIXIN_DB_STATEMENT_TIMEOUT_MS`` and ``AIXIN_DB_CONNECT_TIMEOUT_S``.
"""

import logging
import os
import select
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

_MIGRATION_LOCK = threading.Lock()
REPO_ROOT = Path(__file__).resolve().parent.parent
POSTGRES_CONNECT_TIMEOUT_S = int(os.environ.get("AIXIN_DB_CONNECT_TIMEOUT_S", "5"))
POSTGRES_STATEMENT_TIMEOUT_MS = int(os.environ.get("AIXIN_DB_STATEMENT_TIMEOUT_MS",
                                                   "15000"))
# How long past the statement timeout the client waits for a silent server.
CLIENT_WAIT_MARGIN_S = 5.0
# A pooled connection idle for this long is pinged before it is handed out. One used
# more recently is not: a busy service would otherwise ping on every check-out.
POSTGRES_PING_AFTER_IDLE_S = float(os.environ.get("AIXIN_DB_PING_AFTER_IDLE_S", "1"))
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
    _install_wait_callback()
    engine = create_engine(
        url,
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
    event.listen(engine, "handle_error", _silent_server_is_a_disconnect)
    _ping_idle_connections(engine)
    return engine


def _ping_idle_connections(engine: Engine) -> None:
    """SQLAlchemy's ``pool_pre_ping``, but only for connections idle for
    ``POSTGRES_PING_AFTER_IDLE_S`` or more.

    The ping lets a service survive a PostgreSQL restart: a dead pooled connection is
    replaced before a worker uses it, and the whole pool is renewed. Pinging every
    check-out cost a round trip per transaction. Now a connection checked in less than
    a second ago is trusted; if the server went away within that second, the first
    statement on it fails once, and that failure renews the pool the same way.
    """
    def connected(_dbapi_connection, record):
        record.info["aixin_idle_since"] = time.monotonic()

    def checked_in(_dbapi_connection, record):
        if record is not None:
            record.info["aixin_idle_since"] = time.monotonic()

    def checked_out(dbapi_connection, record, _proxy):
        idle_since = record.info.get("aixin_idle_since")
        if idle_since is not None and \
                time.monotonic() - idle_since < POSTGRES_PING_AFTER_IDLE_S:
            return
        if not engine.dialect._do_ping_w_event(dbapi_connection):
            raise exc.InvalidatePoolError()  # as pool_pre_ping: renew the pool

    event.listen(engine, "connect", connected)
    event.listen(engine, "checkin", checked_in)
    event.listen(engine, "checkout", checked_out)


class ServerSilent(Exception):
    """Raised inside psycopg2's wait when the server has not answered in time."""


def client_wait_limit_s() -> float:
    return max(POSTGRES_STATEMENT_TIMEOUT_MS / 1000, POSTGRES_CONNECT_TIMEOUT_S) + \
        CLIENT_WAIT_MARGIN_S


def _wait_with_limit(connection, timeout=-1):
    """psycopg2 wait callback: cooperative under eventlet, bounded in every case."""
    import psycopg2
    from psycopg2 import extensions

    limit = client_wait_limit_s()
    green = _eventlet_patched()
    silenced = False
    while True:
        state = connection.poll()
        if state == extensions.POLL_OK:
            return
        if state not in (extensions.POLL_READ, extensions.POLL_WRITE):
            raise psycopg2.OperationalError(f"bad result from poll: {state!r}")
        read = state == extensions.POLL_READ
        if green:
            from eventlet.hubs import trampoline
            try:
                trampoline(connection.fileno(), read=read, write=not read, timeout=limit,
                           timeout_exc=ServerSilent)
                continue
            except ServerSilent:
                pass
        else:
            ready = select.select([connection.fileno()] if read else [],
                                  [] if read else [connection.fileno()], [], limit)
            if ready[0] or ready[1]:
                continue
        if silenced:
            raise psycopg2.OperationalError(
                f"database server did not answer within {limit:.0f} s")
        log.error("database server silent for %.0f s: dropping the connection", limit)
        # Shutting the socket down makes libpq fail the pending call at once with
        # "server closed the connection unexpectedly", which SQLAlchemy recognises as
        # a disconnect; psycopg2's own close() would wait for the silent server.
        _shut_down(connection.fileno())
        silenced = True


def _shut_down(fileno: int) -> None:
    try:
        duplicate = socket.fromfd(fileno, socket.AF_INET, socket.SOCK_STREAM)
    except OSError:
        return
    try:
        duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        duplicate.close()


def _eventlet_patched() -> bool:
    try:
        from eventlet import patcher
    except ImportError:
        return False
    return patcher.is_monkey_patched("socket")


_WAIT_CALLBACK_LOCK = threading.Lock()


def _install_wait_callback() -> None:
    from psycopg2 import extensions

    with _WAIT_CALLBACK_LOCK:
        if extensions.get_wait_callback() is not _wait_with_limit:
            extensions.set_wait_callback(_wait_with_limit)


def _silent_server_is_a_disconnect(context) -> None:
    if "did not answer within" in str(context.original_exception) or \
            "server closed the connection" in str(context.original_exception):
        context.is_disconnect = True


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
    with _MIGRATION_LOCK, _migration_lock_in_database(url):
        command.upgrade(config, revision)
    log.info("migrated database service=%s revision=%s", service, revision)


# Key of the PostgreSQL advisory lock that serialises migrations of one database.
MIGRATION_ADVISORY_LOCK = 0x41697869


@contextmanager
def _migration_lock_in_database(url: str):
    """Serialise migrations across processes: two instances of a service starting at
    once against one PostgreSQL database would otherwise both create its tables."""
    if not url.startswith("postgresql"):
        yield
        return
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1),
                           poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_ADVISORY_LOCK})")
            try:
                yield
            finally:
                connection.exec_driver_sql(
                    f"SELECT pg_advisory_unlock({MIGRATION_ADVISORY_LOCK})")
                connection.commit()
    finally:
        engine.dispose()


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
