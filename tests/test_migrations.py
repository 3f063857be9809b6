"""Alembic is the only way the schema is made: every revision goes up, down and up again."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from jointcheck.core import migrate
from jointcheck.core.db import make_engine
from jointcheck.core.models import Base
from tests.conftest import run_in_thread


async def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            from sqlalchemy import inspect

            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def _diff(url: str) -> list:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata)
            )
    finally:
        await engine.dispose()


@pytest.mark.parametrize("empty_database_url", ["sqlite", "postgresql"], indirect=True)
def test_stairway_every_revision_up_down_up(empty_database_url):
    url = empty_database_url
    revisions = migrate.revisions(url)
    assert revisions, "no migrations found"
    previous = "base"
    for revision in revisions:
        migrate.upgrade(url, revision)
        migrate.downgrade(url, previous)
        migrate.upgrade(url, revision)
        previous = revision
    assert set(Base.metadata.tables) <= run_in_thread(_tables(url))
    migrate.downgrade(url, "base")
    assert run_in_thread(_tables(url)) <= {"alembic_version"}


@pytest.mark.parametrize("empty_database_url", ["sqlite", "postgresql"], indirect=True)
def test_migrations_match_the_models(empty_database_url):
    migrate.upgrade(empty_database_url)
    assert run_in_thread(_diff(empty_database_url)) == []
