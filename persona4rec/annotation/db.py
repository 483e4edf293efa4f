"""The annotation database: one engine (engine.py: URL, SQLite behaviour) with read and write sessions.

`open_database` is what the app and the CLI call: it resolves the URL and brings the schema up to the
newest migration (migrate.py) before handing the database out.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from .engine import make_engine, resolve_url, write_engine
from .migrate import ensure_current, upgrade


class Database:
    """One database: an engine plus read and write sessions. Thread-safe; make one per process."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._writer = write_engine(self.engine)

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (its transaction is rolled back at the end)."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back on an exception."""
        with Session(self._writer, expire_on_commit=False) as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({make_url(self.url).render_as_string(hide_password=True)!r})"


def open_database(url: str | None = None, *, migrate: bool = True, config_path: str | Path | None = None) -> Database:
    """Open the study database at `url` (resolved as in `resolve_url`), upgrading its schema to the
    newest migration first unless `migrate=False` (then a schema that is behind raises WorkspaceError)."""
    resolved = resolve_url(url, config_path)
    db = Database(resolved)
    if migrate:
        upgrade(resolved, engine=db.engine)
    else:
        ensure_current(db.engine)
    return db
