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


async def _execute(url: str, *statements: str) -> list:
    from sqlalchemy import text

    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            rows = []
            for statement in statements:
                result = await conn.execute(text(statement))
                rows = result.fetchall() if result.returns_rows else rows
            return rows
    finally:
        await engine.dispose()


@pytest.mark.parametrize("empty_database_url", ["sqlite", "postgresql"], indirect=True)
def test_code_index_migration_keeps_a_directory_that_tasks_refer_to(empty_database_url):
    """0004 rebuilds targets on SQLite: rows, ids, the tasks pointing at them and uniqueness survive,
    both ways."""
    url = empty_database_url
    migrate.upgrade(url, "0003")
    run_in_thread(
        _execute(
            url,
            "INSERT INTO departments (code, name) VALUES ('SAMR', 'SAMR')",
            "INSERT INTO targets (id, code, name, kind, region, industry, risk, departments, tags, status, address) VALUES "
            "(7, 'C7', 'seven', 'enterprise', '310104', 'F', 'A', '', '', 'active', ''), "
            "(9, 'C9', 'nine', 'enterprise', '310104', 'F', 'B', '', '', 'active', '')",
            "INSERT INTO rounds (id, lead_department_id, title, region, kind, status, scope, ratios, cooling_off, batch_size) "
            "VALUES (1, 1, 't', '310104', 'regular', 'drawn', '{}', '{}', '{}', 0)",
            "INSERT INTO tasks (round_id, target_id, stratum, ticket, visit_order, source, status) VALUES (1, 9, 'B', 'x', 0, 'draw', 'assigned')",
        )
    )
    for step in ("head", "0003", "head"):
        (migrate.upgrade if step == "head" else migrate.downgrade)(url, step)
        assert run_in_thread(_execute(url, "SELECT t.code, k.target_id FROM tasks k JOIN targets t ON t.id = k.target_id")) == [("C9", 9)]
        assert run_in_thread(_execute(url, "SELECT id, code FROM targets ORDER BY id")) == [(7, "C7"), (9, "C9")]
        with pytest.raises(Exception, match="(?i)unique"):
            run_in_thread(
                _execute(
                    url,
                    "INSERT INTO targets (code, name, kind, region, industry, risk, departments, tags, status, address) "
                    "VALUES ('C7', 'again', 'enterprise', '310104', 'F', 'A', '', '', 'active', '')",
                )
            )


def test_a_sqlite_upgrade_that_leaves_a_broken_reference_changes_nothing(tmp_path):
    """Foreign keys are off while SQLite's tables are rebuilt; the check before commit undoes the
    whole upgrade if anything points nowhere (here a task whose target was never there)."""
    import sqlite3

    path = tmp_path / "broken.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(url, "0003")
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("INSERT INTO departments (code, name) VALUES ('SAMR', 'SAMR')")
    raw.execute(
        "INSERT INTO rounds (id, lead_department_id, title, region, kind, status, scope, ratios, cooling_off, batch_size) "
        "VALUES (1, 1, 't', '310104', 'regular', 'drawn', '{}', '{}', '{}', 0)"
    )
    raw.execute(
        "INSERT INTO tasks (round_id, target_id, stratum, ticket, visit_order, source, status) VALUES (1, 99, 'B', 'x', 0, 'draw', 'assigned')"
    )
    schema = raw.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    with pytest.raises(RuntimeError, match="point nowhere"):
        migrate.upgrade(url, "head")
    assert raw.execute("SELECT version_num FROM alembic_version").fetchall() == [("0003",)]
    assert raw.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall() == schema
    raw.close()


def _directory_at_0003(path) -> None:
    """A SQLite file at 0003 with a directory big enough that 0004's rebuild of targets frees pages."""
    import sqlite3

    migrate.upgrade(f"sqlite+aiosqlite:///{path}", "0003")
    with sqlite3.connect(path) as raw:
        raw.executemany(
            "INSERT INTO targets (code, name, kind, region, industry, risk, departments, tags, status, address) "
            "VALUES (?, ?, 'enterprise', '310104', 'F', 'A', '', '', 'active', ?)",
            ((f"C{n:06}", f"target {n}", "x" * 200) for n in range(5_000)),
        )
    raw.close()


def test_a_sqlite_upgrade_that_rebuilds_a_table_gives_the_freed_space_back(tmp_path, cli):
    import shutil

    path, kept = tmp_path / "vacuumed.db", tmp_path / "kept.db"
    _directory_at_0003(path)
    shutil.copy(path, kept)

    upgraded = cli(f"sqlite+aiosqlite:///{kept}", "db", "upgrade", "--no-vacuum")
    assert upgraded.code == 0 and "free pages, left by a rebuilt table: `jointcheck db vacuum`" in upgraded.out
    left = migrate.file_space(str(kept))
    assert left.free_share >= migrate.RECLAIM_SHARE

    upgraded = cli(f"sqlite+aiosqlite:///{path}", "db", "upgrade")
    assert upgraded.code == 0 and "reclaiming them (VACUUM)" in upgraded.out
    vacuumed = migrate.file_space(str(path))
    assert vacuumed.free_pages == 0 and vacuumed.size < left.size - left.free // 2
    assert path.stat().st_size == vacuumed.size  # the file itself shrank, not only its page count

    reclaimed = cli(f"sqlite+aiosqlite:///{kept}", "db", "vacuum")
    assert reclaimed.code == 0 and migrate.file_space(str(kept)).free_pages == 0 and kept.stat().st_size < left.size

    again = cli(f"sqlite+aiosqlite:///{path}", "db", "upgrade")  # nothing to do, nothing freed: no VACUUM
    assert again.code == 0 and "VACUUM" not in again.out
