"""Alembic environment: runs migrations over the async engine the service uses."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from jointcheck.core.db import make_engine
from jointcheck.core.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
        # SQLite's DDL is transactional, though Alembic assumes otherwise: one transaction for the
        # whole upgrade, so that the check below runs before anything is committed.
        transactional_ddl=True if sqlite else None,
    )
    if not sqlite:
        with context.begin_transaction():
            context.run_migrations()
        return
    # A batch migration rebuilds a table by copy, drop and rename; with foreign keys on, dropping
    # a table other rows refer to deletes through them or fails. SQLite changes the setting only
    # outside a transaction, so it goes off before the migrations' transaction and their result
    # is checked before it commits.
    _pragma(connection, "PRAGMA foreign_keys=OFF")
    try:
        with context.begin_transaction():
            context.run_migrations()
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"rows whose foreign keys point nowhere, so nothing was migrated: {broken[:5]}")
    finally:
        _pragma(connection, "PRAGMA foreign_keys=ON")


def _pragma(connection: Connection, statement: str) -> None:
    """On the driver's connection, so SQLAlchemy does not begin a transaction for it."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


async def _run_async() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_async())
