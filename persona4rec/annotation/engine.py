"""Where the annotation database is, and engines that talk to it safely from many threads and processes.

Streamlit serves each browser session on its own thread and several app processes may share one SQLite
file, so every SQLite connection gets, on connect: WAL journal (readers never block the writer),
busy_timeout (a writer waits for the lock instead of failing), foreign keys on. Write transactions open
with `BEGIN IMMEDIATE`: the write lock is taken up front, so concurrent writers queue on busy_timeout.
(A deferred transaction that reads and then writes can fail at once with "database is locked" when another
writer got in between; SQLite cannot wait that out, so deferred is only used for read-only sessions.)

PostgreSQL gets the same discipline: a write transaction's first statement takes one transaction-level
advisory lock (`pg_advisory_xact_lock`, released at commit or rollback), so writers queue one after the
other as on SQLite while readers never wait. Without it, READ COMMITTED lets two annotators both see an
example with one slot left and both take it (the queue's "fewer than k annotators" is checked in Python,
not by a constraint). Advisory locks are per database, so databases on one server do not block each other.

The URL: `sqlite:///db/persona4rec.sqlite` (relative to the working directory) unless `[db] url` in a TOML
config, the PERSONA4REC_DB_URL variable, or an explicit argument says otherwise. PostgreSQL:
`postgresql+psycopg://USER@HOST:PORT/DBNAME` (the `postgres` extra installs psycopg; the tests run on both).
Any other SQLAlchemy URL works too, without a write lock (a unique-constraint race is retried by study.py).

Both the database (db.py) and the migrations (migrate.py) open their engines here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from ..config import load_config

DEFAULT_URL = "sqlite:///db/persona4rec.sqlite"
BUSY_TIMEOUT_MS = 30_000
# The PostgreSQL advisory-lock key that write transactions hold ("p4rwrite" as a 64-bit integer).
PG_WRITE_LOCK_KEY = int.from_bytes(b"p4rwrite", "big")


@dataclass
class DbConfig:
    url: str = DEFAULT_URL


def resolve_url(url: str | None = None, config_path: str | Path | None = None) -> str:
    """The database URL: explicit argument > PERSONA4REC_DB_URL > `[db] url` in the TOML file > default."""
    return load_config(DbConfig, section="db", path=config_path, overrides={"url": url}).url


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_file(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _install_sqlite_behaviour(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below issue BEGIN itself (pysqlite's own implicit BEGIN is
        # always deferred and skips DDL); busy_timeout goes first so the WAL switch itself can wait.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def _install_postgresql_behaviour(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def on_begin(connection):
        if connection.get_execution_options().get("postgresql_write_lock"):
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK_KEY})")


def make_engine(url: str) -> Engine:
    """An engine for `url`; for SQLite: WAL, busy_timeout, foreign keys, the file's folder created; for
    PostgreSQL: write transactions that take the write lock (see the module's docstring)."""
    if not is_sqlite(url):
        engine = create_engine(url, pool_pre_ping=True)
        if engine.dialect.name == "postgresql":
            _install_postgresql_behaviour(engine)
        return engine
    path = _sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
    _install_sqlite_behaviour(engine)
    return engine


def write_engine(engine: Engine) -> Engine:
    """The same engine (same pool) whose transactions take the write lock first: BEGIN IMMEDIATE on
    SQLite, the advisory lock on PostgreSQL."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_begin="IMMEDIATE")
    if engine.dialect.name == "postgresql":
        return engine.execution_options(postgresql_write_lock=True)
    return engine
