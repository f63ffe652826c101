"""Alembic environment of Pilotis: migrations run on the connection the app hands over.

Run through :meth:`pilotis.accounts.db.Database.upgrade` (app start-up, ``python -m pilotis db upgrade``);
no alembic.ini is needed.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from pilotis.accounts.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    """``--sql`` mode: print the SQL instead of running it."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Use the connection shared by the caller, or open one from ``sqlalchemy.url``."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as own:
        _run(own)
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
