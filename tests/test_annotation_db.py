"""The annotation database: migrations build exactly the models' schema; SQLite runs in WAL with a busy
timeout, foreign keys and write transactions that take the write lock up front. The backend-neutral tests
run on SQLite and on a real PostgreSQL server (conftest.py: db_urls)."""

from __future__ import annotations

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from persona4rec.annotation.db import Database, open_database
from persona4rec.annotation.engine import DEFAULT_URL, PG_WRITE_LOCK_KEY, resolve_url
from persona4rec.annotation.migrate import current_revision, downgrade, head_revision, upgrade
from persona4rec.annotation.models import Base
from persona4rec.errors import WorkspaceError


def _migrated(url: str):
    assert upgrade(url) == head_revision()
    return Database(url)


@pytest.fixture(scope="module")
def migrated(module_db_urls):
    """A migrated database on each backend; `path` is its file on SQLite (in a folder not yet made), else None."""
    if module_db_urls.is_sqlite:
        path = module_db_urls.folder / "nested" / "studies.sqlite"
        url = f"sqlite:///{path}"
    else:
        path, url = None, module_db_urls.new()
    db = _migrated(url)
    yield db, path
    db.dispose()


@pytest.fixture(scope="module")
def sqlite_migrated(tmp_path_factory):
    """For the SQLite-only tests: a migrated SQLite file."""
    path = tmp_path_factory.mktemp("annotation_db") / "nested" / "studies.sqlite"
    db = _migrated(f"sqlite:///{path}")
    yield db, path
    db.dispose()


def test_upgrade_of_an_empty_database_matches_the_models(migrated):
    db, path = migrated
    if path is not None:
        assert path.is_file()  # the folder was created too
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    tables = set(inspect(db.engine).get_table_names())
    assert {
        "studies",
        "systems",
        "examples",
        "annotators",
        "assignments",
        "ratings",
        "rating_history",
        "submissions",
        "alembic_version",
    } <= tables


def test_upgrade_is_idempotent_and_downgrade_then_upgrade_round_trips(db_url):
    url = db_url
    assert upgrade(url) == upgrade(url) == head_revision()
    assert downgrade(url, "base") is None
    db = Database(url)
    assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
    assert upgrade(url, engine=db.engine) == head_revision()
    db.dispose()


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(sqlite_migrated):
    db, _ = sqlite_migrated
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_foreign_keys_are_enforced(migrated):
    db, _ = migrated
    with pytest.raises(IntegrityError):
        with db.write() as session:
            session.execute(
                text(
                    "INSERT INTO examples (study_id, position, user_id, item_id, item_title, "
                    "history, explanation_a, explanation_b, system_a_id, system_b_id, workspace) "
                    "VALUES (999, 0, 'u', 'i', '', '[]', 'a', 'b', 998, 997, '')"
                )
            )


def test_write_sessions_take_the_write_lock_before_their_first_statement(sqlite_migrated):
    db, path = sqlite_migrated
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with db.write() as session:
            session.execute(text("SELECT 1"))  # a read only; the lock must already be held
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # released at commit
        other.execute("ROLLBACK")
        with db.read() as session:  # read sessions stay deferred: no lock held
            session.execute(text("SELECT 1"))
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
    finally:
        other.close()


@pytest.mark.postgres
def test_postgres_write_sessions_take_the_write_lock_before_their_first_statement(postgres_server):
    url = postgres_server.create_database()
    db = Database(url)
    try:
        with db.engine.connect() as other:

            def lock_is_free() -> bool:
                free = other.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({PG_WRITE_LOCK_KEY})").scalar()
                other.rollback()
                return free

            with db.write() as session:
                session.execute(text("SELECT 1"))  # a read only; the lock must already be held
                assert not lock_is_free()
            assert lock_is_free()  # released at commit
            with db.read() as session:  # read sessions take no lock
                session.execute(text("SELECT 1"))
                assert lock_is_free()
    finally:
        db.dispose()
        postgres_server.drop_database(url)


def test_open_database_upgrades_or_refuses_a_stale_schema(db_url):
    url = db_url
    with pytest.raises(WorkspaceError, match="db upgrade"):
        open_database(url, migrate=False)
    db = open_database(url)
    assert current_revision(db.engine) == head_revision()
    open_database(url, migrate=False).dispose()
    db.dispose()


def test_url_resolution_order(monkeypatch, tmp_path):
    monkeypatch.delenv("PERSONA4REC_DB_URL", raising=False)
    assert resolve_url() == DEFAULT_URL == "sqlite:///db/persona4rec.sqlite"
    config = tmp_path / "p4r.toml"
    config.write_text('[db]\nurl = "sqlite:///from-file.sqlite"\n')
    assert resolve_url(config_path=config) == "sqlite:///from-file.sqlite"
    monkeypatch.setenv("PERSONA4REC_DB_URL", "sqlite:///from-env.sqlite")
    assert resolve_url(config_path=config) == "sqlite:///from-env.sqlite"
    assert resolve_url("sqlite:///explicit.sqlite", config_path=config) == "sqlite:///explicit.sqlite"


def test_every_public_name_of_the_package_resolves():
    import persona4rec.annotation as annotation

    assert all(getattr(annotation, name) is not None for name in annotation.__all__)
    with pytest.raises(AttributeError):
        annotation.no_such_name


def test_cli_db_upgrade_uses_the_default_file_relative_to_the_working_directory(tmp_path, monkeypatch, capsys):
    from persona4rec.cli import main as cli_main

    monkeypatch.delenv("PERSONA4REC_DB_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert cli_main(["db", "upgrade"]) == 0
    assert (tmp_path / "db" / "persona4rec.sqlite").is_file()
    assert cli_main(["db", "current"]) == 0
    assert f"at {head_revision()}, newest {head_revision()}" in capsys.readouterr().out
