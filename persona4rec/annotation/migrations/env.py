"""Alembic environment for the annotation database (run by persona4rec.annotation.migrate, not by hand)."""

from __future__ import annotations

from alembic import context

from persona4rec.annotation.engine import make_engine, write_engine
from persona4rec.annotation.models import Base

config = context.config
target_metadata = Base.metadata


def _configure_and_run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copy-and-move
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = config.attributes.get("engine") or make_engine(config.get_main_option("sqlalchemy.url"))
    # One outer transaction, begun IMMEDIATE on SQLite: reading the current revision and applying the
    # scripts happen under one write lock, so concurrent upgrades of one file run one after the other.
    with write_engine(engine).begin() as connection:
        _configure_and_run(connection)


if context.is_offline_mode():
    run_offline()
else:
    run_online()
