"""The bulk writer of targets, on both databases: what it writes is exactly what it was given,
the code stays unique however the rows were loaded, and a load that is rolled back leaves nothing."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from jointcheck.core.directory_io.packed import pack, unpack_values
from jointcheck.core.models import Target
from jointcheck.core.repositories.bulk_targets import ROWS_PER_STATEMENT, TARGET_COLUMNS, TargetBulkWriter

# Two full multi-row statements and a shorter last one.
COUNT = 2 * ROWS_PER_STATEMENT + 37


def rows(n: int, name: str = "企业") -> list[tuple]:
    return [
        (f"P-{i:05d}", f"{name}{i}", "product", "440106", "F51", "ABCD"[i % 4], "SAMR", "食品" if i % 3 else "", "active", f"路{i}号\\N")
        for i in range(n)
    ]


def test_pack_sorts_by_code_and_unpacks_to_the_values():
    records = [("b", "2", "x"), ("a", "1", ""), ("ab", "3", "y")]
    data = pack(records, 3)
    assert data.decode().splitlines() == ["a\t1\t", "ab\t3\ty", "b\t2\tx"]
    assert unpack_values(data) == ["a", "1", "", "ab", "3", "y", "b", "2", "x"]
    assert pack(records, 3, in_key_order=False).decode().splitlines() == ["b\t2\tx", "a\t1\t", "ab\t3\ty"]
    assert pack([], 3) == b"" and unpack_values(b"") == []


@pytest.mark.parametrize("bad", ["a\tb", "a\nb"])
def test_pack_refuses_a_value_that_would_shift_the_fields(bad):
    with pytest.raises(ValueError):
        pack([("a", bad, "c")], 3)


async def _table(uow) -> dict[str, tuple]:
    result = await uow.session.execute(select(*(getattr(Target, c) for c in TARGET_COLUMNS)))
    return {row[0]: tuple(row) for row in result}


async def _load(uow_factory, batches: list[list[tuple]]) -> int:
    async with uow_factory() as uow:
        writer = TargetBulkWriter(uow.session)
        for batch in batches:
            await writer.write(batch)
        await writer.finish()
        await uow.commit()
        return writer.changed


async def test_rows_read_back_exactly_and_only_changes_count(uow_factory):
    started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    first = rows(COUNT)
    assert await _load(uow_factory, [first[:150], pack(first[150:], len(TARGET_COLUMNS))]) == COUNT
    changed = [r[:1] + ("改名",) + r[2:] if i % 7 == 0 else r for i, r in enumerate(first)]
    added = rows(COUNT + 3)[COUNT:]
    assert await _load(uow_factory, [changed + added]) == len(range(0, COUNT, 7)) + 3
    async with uow_factory() as uow:
        assert await _table(uow) == {r[0]: r for r in changed + added}
        stamps = (await uow.session.scalars(select(Target.updated_at))).all()
        assert all(started <= stamp <= dt.datetime.now(dt.UTC) for stamp in stamps)


async def _insert_duplicate(uow_factory) -> None:
    async with uow_factory() as uow:
        uow.session.add(Target(code="P-00001", name="重复", kind="product", region="440106", risk="A"))
        await uow.session.flush()


async def test_code_stays_unique_after_a_load_into_an_empty_directory(uow_factory):
    await _load(uow_factory, [rows(COUNT)])
    with pytest.raises(IntegrityError):
        await _insert_duplicate(uow_factory)


async def test_a_repeated_code_in_a_load_into_an_empty_directory_fails_it_and_leaves_nothing(uow_factory):
    """The validation never sends a code twice; if it did, the index built at the end refuses."""
    batch = rows(COUNT)
    with pytest.raises(IntegrityError):
        await _load(uow_factory, [batch, [batch[5][:1] + ("又一个",) + batch[5][2:]]])
    async with uow_factory() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Target)) == 0
    await _load(uow_factory, [rows(3)])
    with pytest.raises(IntegrityError):
        await _insert_duplicate(uow_factory)


async def test_a_load_rolled_back_leaves_an_empty_directory_as_it_was(uow_factory):
    async with uow_factory() as uow:
        writer = TargetBulkWriter(uow.session)
        await writer.write(rows(COUNT))
        await uow.rollback()
    async with uow_factory() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Target)) == 0
        uow.session.add(Target(code="P-00001", name="一", kind="product", region="440106", risk="A"))
        await uow.commit()
    with pytest.raises(IntegrityError):
        await _insert_duplicate(uow_factory)


async def test_a_load_into_an_empty_directory_leaves_the_schema_as_it_was(uow_factory, db_url):
    if db_url.startswith("postgresql"):
        query = (
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'targets'::regclass "
            "UNION ALL SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'targets' ORDER BY 1, 2"
        )
    else:
        query = "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'targets' ORDER BY name"
    async with uow_factory() as uow:
        before = (await uow.session.execute(text(query))).all()
    await _load(uow_factory, [rows(COUNT)])
    async with uow_factory() as uow:
        assert (await uow.session.execute(text(query))).all() == before


async def test_two_loads_into_an_empty_directory_at_once_both_land(uow_factory, db_url):
    """On PostgreSQL both would see the directory empty and then wait for each other's table lock;
    they take turns instead (SQLite's write lock serialises them anyway)."""
    first, second = rows(COUNT), [("Q-" + r[0][2:],) + r[1:] for r in rows(COUNT, "商店")]
    counts = await asyncio.gather(_load(uow_factory, [first]), _load(uow_factory, [second]))
    assert sorted(counts) == [COUNT, COUNT]
    async with uow_factory() as uow:
        assert await _table(uow) == {r[0]: r for r in first + second}
