"""Versioned schema migrations (Alembic), run from code: `upgrade(url)` or `persona4rec db upgrade`.

The scripts live inside the package (persona4rec/annotation/migrations/versions) so an installed package
can migrate its own database; no alembic.ini is needed. Upgrading runs in one `BEGIN IMMEDIATE`
transaction on SQLite (one transaction holding the write lock on PostgreSQL, see engine.py), so two
processes upgrading the same database at once queue instead of colliding.
Adding a migration after changing models.py is described in db/README.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from ..errors import WorkspaceError
from .engine import make_engine, resolve_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str, engine: Engine | None = None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory(str(MIGRATIONS_DIR)).get_heads()
    if len(heads) != 1:
        raise WorkspaceError(f"annotation migrations have {len(heads)} heads ({heads}); merge them")
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(url: str | None = None, *, revision: str = "head", engine: Engine | None = None) -> str | None:
    """Bring the database at `url` (default: resolved as in engine.resolve_url) up to `revision`; idempotent.
    Returns the revision it is at afterwards."""
    from alembic import command

    return _migrate(command.upgrade, url, revision, engine)


def downgrade(url: str | None, revision: str, *, engine: Engine | None = None) -> str | None:
    """Step the schema back to `revision` ("base" drops every table). Returns the revision afterwards."""
    from alembic import command

    return _migrate(command.downgrade, url, revision, engine)


def _migrate(step: Callable, url: str | None, revision: str, engine: Engine | None) -> str | None:
    """Run an Alembic `step` to `revision` on `engine` (or an engine of its own, disposed afterwards)."""
    url = resolve_url(url)
    own_engine = engine is None
    engine = engine or make_engine(url)
    try:
        step(alembic_config(url, engine), revision)
        return current_revision(engine)
    finally:
        if own_engine:
            engine.dispose()


def ensure_current(engine: Engine) -> None:
    """Raise WorkspaceError unless the database's schema is at the newest migration."""
    at, head = current_revision(engine), head_revision()
    if at != head:
        raise WorkspaceError(
            f"the annotation database {engine.url.render_as_string(hide_password=True)} "
            f"is at schema revision {at or '(empty)'}, not {head}: run "
            f"`persona4rec db upgrade --url ...`"
        )
