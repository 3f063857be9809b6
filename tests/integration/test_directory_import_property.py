"""Property: a random corruption of a valid file is reported at its line and nothing is imported."""

from __future__ import annotations

import itertools
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jointcheck.core.authz import Actor
from jointcheck.core.db import make_engine, make_sessionmaker
from jointcheck.core.directory_io.generate import iter_synthetic_targets
from jointcheck.core.directory_io.writers import write_table
from jointcheck.core.services.departments import add_department
from jointcheck.core.services.directory_import import import_directory
from jointcheck.core.uow import UnitOfWork
from tests.conftest import run_in_thread
from tests.db_snapshot import snapshot

OPERATOR = Actor.operator("test")
ROWS = list(itertools.islice(iter_synthetic_targets(30, 11, ("SAMR",)), 30))
# For each column, values that must be refused.
BAD = {
    "code": ["", "91350100M000100Y44", "9135010OM000100Y43", "x" * 65],
    "name": ["", "a\x00b"],
    "kind": ["company", "外星人", ""],  # a company-type name (有限责任公司...) is an enterprise
    "region": ["44010", "4401066", "abcdef", ""],
    "industry": ["Z99", "F123456", "1"],
    "risk": ["E", "AB", "5"],  # empty is the unclassified class U
    "departments": ["NOPE", "SAMR;NOPE"],  # a target may have no supervising department
    "status": ["closed", "maybe"],
}
corruption = st.lists(
    st.tuples(st.integers(0, len(ROWS) - 1), st.sampled_from(sorted(BAD)), st.integers(0, 10)),
    min_size=1,
    max_size=4,
)


async def _import(url: str, path) -> object:
    engine = make_engine(url)
    try:
        async with UnitOfWork(make_sessionmaker(engine)) as uow:
            return await import_directory(uow, OPERATOR, "targets", path)
    finally:
        await engine.dispose()


async def _setup(url: str) -> None:
    engine = make_engine(url)
    try:
        async with UnitOfWork(make_sessionmaker(engine)) as uow:
            await add_department(uow, OPERATOR, "SAMR", "市场监管")
            await uow.commit()
    finally:
        await engine.dispose()


SMALL_BATCH = 4  # rows written before a late error, so that it is the rollback that leaves nothing


@pytest.fixture
def written(monkeypatch) -> list[int]:
    """Small batches, and the rows each one handed to the writer before the import ended."""
    from jointcheck.core.repositories.bulk_targets import TargetBulkWriter
    from jointcheck.core.services import directory_import

    monkeypatch.setattr(directory_import, "BATCH", SMALL_BATCH)
    sizes: list[int] = []
    write = TargetBulkWriter.write

    async def counting(self, rows):
        sizes.append(len(rows) if isinstance(rows, list) else rows.count(b"\n") + bool(rows))
        await write(self, rows)

    monkeypatch.setattr(TargetBulkWriter, "write", counting)
    return sizes


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(corruption)
def test_corrupted_files_are_reported_and_never_half_imported(sqlite_db_url, tmp_path_factory, written, corruptions):
    written.clear()
    rows = [dict(r) for r in ROWS]
    bad_lines = set()
    for row, column, choice in corruptions:
        values = BAD[column]
        rows[row][column] = values[choice % len(values)]
        if column == "code":  # a check-digit error is one only where a credit code is required
            rows[row]["kind"] = "enterprise"
        bad_lines.add(row + 2)  # the header is line 1
    path = tmp_path_factory.mktemp("corrupt") / "targets.csv"
    write_table(path, "targets", rows)
    before = snapshot(sqlite_db_url)
    result = run_in_thread(_import(sqlite_db_url, path))
    assert not result.imported
    assert {e.line for e in result.errors} == bad_lines
    if min(bad_lines) - 2 >= SMALL_BATCH:  # a whole batch of good rows came before the first bad one
        assert sum(written) >= SMALL_BATCH
    assert snapshot(sqlite_db_url) == before


def test_the_uncorrupted_file_imports(sqlite_db_url, tmp_path):
    path = tmp_path / "targets.csv"
    write_table(path, "targets", ROWS)
    result = run_in_thread(_import(sqlite_db_url, path))
    assert result.imported and result.good == len(ROWS)


@pytest.fixture
def sqlite_db_url(tmp_path_factory, sqlite_template):
    """One database for every example: a corrupted file must leave it unchanged, so none is reset."""
    path = tmp_path_factory.mktemp("prop") / "db.sqlite"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    run_in_thread(_setup(url))
    return url
