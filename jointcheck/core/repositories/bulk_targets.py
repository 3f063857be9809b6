"""Upserting batches of target rows at directory scale, in the caller's transaction.

The ORM is bypassed on purpose: a province has 20 million targets, so rows travel packed
(`directory_io.packed`) to the driver: on SQLite as multi-row INSERTs, on PostgreSQL through COPY.
"""

from __future__ import annotations

import io

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.schema import CreateIndex, DropIndex

from jointcheck.core.directory_io.packed import pack, unpack_values
from jointcheck.core.models import CODE_INDEX, Target

TARGET_COLUMNS = ("code", "name", "kind", "region", "industry", "risk", "departments", "tags", "status", "address")
WIDTH = len(TARGET_COLUMNS)
# Rows per SQLite statement: one statement of many rows costs sqlite3 one step and one reset
# where executemany of single rows costs one each per row, about a sixth of the writing time.
# 1,000 bound values stay far below SQLite's limit of 32,766.
ROWS_PER_STATEMENT = 100
BULK_CACHE_KIB = -65536  # SQLite's page cache while bulk writing: 64 MiB
IMPORT_LOCK_KEY = 0x6A63_7467  # PostgreSQL advisory lock that imports of targets take turns on ("jctg")


def _upsert_sql(values_clause: str, distinct_op: str, updated: tuple[str, ...]) -> str:
    """Insert new codes; for known ones change only the `updated` columns, and only if they differ.

    A file without, say, a status column must not reactivate what was deregistered, so columns
    the file lacks are left alone; unchanged rows are not rewritten, so re-importing touches nothing.
    `updated` None: a plain insert, for a directory that was empty (and has no index to conflict on).
    """
    cols = ", ".join(TARGET_COLUMNS)
    if updated is None:
        return f"INSERT INTO targets ({cols}, updated_at) {values_clause}"
    if not updated:
        return f"INSERT INTO targets ({cols}, updated_at) {values_clause} ON CONFLICT (code) DO NOTHING"
    assignments = ", ".join(f"{c} = excluded.{c}" for c in updated)
    old = ", ".join(f"targets.{c}" for c in updated)
    new = ", ".join(f"excluded.{c}" for c in updated)
    return (
        f"INSERT INTO targets ({cols}, updated_at) {values_clause} "
        f"ON CONFLICT (code) DO UPDATE SET {assignments}, updated_at = CURRENT_TIMESTAMP "
        f"WHERE ({old}) {distinct_op} ({new})"
    )


def sqlite_upsert(updated: tuple[str, ...] | None, rows: int = 1) -> str:
    """`rows` rows of WIDTH parameters, then the one time stamp of them all: SQLite would work out
    CURRENT_TIMESTAMP again for every row, about a tenth of the writing time."""
    now = f"?{rows * WIDTH + 1}"
    values = ", ".join(f"({', '.join(f'?{row * WIDTH + i}' for i in range(1, WIDTH + 1))}, {now})" for row in range(rows))
    return _upsert_sql(f"VALUES {values}", "IS NOT", updated)


def postgres_upsert(updated: tuple[str, ...]) -> str:
    # "WHERE true" keeps PostgreSQL from reading ON CONFLICT as part of the SELECT's join syntax.
    source = f"SELECT {', '.join(TARGET_COLUMNS)}, CURRENT_TIMESTAMP FROM targets_staging WHERE true ORDER BY code"
    return _upsert_sql(source, "IS DISTINCT FROM", updated)


# The unique index on targets.code, as the model declares it: dropped for a load into an empty
# directory and built again, once, at the end.
_CODE_INDEX = next(index for index in Target.__table__.indexes if index.name == CODE_INDEX)


class TargetBulkWriter:
    """`write` batches, then `finish` if the rows are to be kept, and `close` in any case; `changed`
    counts the rows inserted or updated.

    Into an empty directory, both databases load without the unique index on code and build it
    once at the end: inserting a million keys one by one into it costs more than the rest of the
    load, building it afterwards a fraction of that. The file's codes are unique already (the
    validation refuses a repeated one); if one slipped through, building the index fails and the
    import with it. The index is dropped inside the import's transaction, so a rollback brings it
    back. Otherwise SQLite takes each batch as multi-row upserts and PostgreSQL copies the batches
    into a staging table, which `finish` upserts in one statement.

    On SQLite the C loop releases the GIL while SQLite works, so a worker's next batch arrives
    meanwhile.
    """

    def __init__(self, session: AsyncSession, present: tuple[str, ...] = TARGET_COLUMNS):
        """`present`: the columns the file had; only those change on rows that exist already."""
        self._session = session
        self._updated: tuple[str, ...] | None = tuple(c for c in TARGET_COLUMNS if c != "code" and c in present)
        self._sqlite_sql: dict[int, str] = {}
        self.changed = 0
        self._dialect = session.bind.dialect.name
        self._driver = None
        self._copy_into = "targets_staging"
        self._index_dropped = False
        self._now: list[str] | None = None  # SQLite: the time stamp of every row written
        self._cache_size: int | None = None  # SQLite: the connection's own page cache, given back at the end

    async def _driver_connection(self):
        if self._driver is None:
            connection = await self._session.connection()
            raw = await connection.get_raw_connection()
            self._driver = raw.driver_connection
            if self._dialect == "sqlite":
                # Half the usual page cache holds a million codes' unique index all the same, and
                # leaves room for the validating process within the import's memory budget.
                self._cache_size = (await self._driver.execute_fetchall("PRAGMA cache_size"))[0][0]
                await self._driver.execute(f"PRAGMA cache_size={BULK_CACHE_KIB}")
            await self._prepare(connection)
        return self._driver

    async def _prepare(self, connection) -> None:
        empty = text("SELECT NOT EXISTS (SELECT 1 FROM targets)")
        # The first statement goes through SQLAlchemy, which begins the transaction (on SQLite
        # with the write lock: core/db.py). On PostgreSQL imports of targets take turns first:
        # two that both saw an empty directory would each hold a share lock the other's table
        # lock waits for. The table lock (the DROP's anyway) keeps readers waiting for the load.
        if self._dialect == "postgresql":
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK_KEY})
            if await connection.scalar(empty):
                await connection.execute(text("LOCK TABLE targets IN ACCESS EXCLUSIVE MODE"))
                await self._load_into_empty(connection, empty)
            if self._index_dropped:
                self._copy_into = "targets"
            else:
                await connection.execute(text("CREATE TEMP TABLE targets_staging (LIKE targets INCLUDING DEFAULTS) ON COMMIT DROP"))
            return
        await self._load_into_empty(connection, empty)
        if self._index_dropped:
            self._updated = None

    async def _load_into_empty(self, connection, empty) -> None:
        if await connection.scalar(empty):
            await connection.execute(DropIndex(_CODE_INDEX))
            self._index_dropped = True

    async def write(self, rows: bytes | list[tuple]) -> None:
        """`rows`: tuples in TARGET_COLUMNS order, or such rows already packed (`packed.pack`)."""
        data = rows if isinstance(rows, bytes) else pack(rows, WIDTH)
        if not data:
            return
        driver = await self._driver_connection()
        if self._dialect == "sqlite":
            await self._write_sqlite(driver, unpack_values(data))
            return
        # COPY's text format: a backslash starts an escape, and nothing else in packed rows does.
        status = await driver.copy_to_table(
            self._copy_into,
            source=io.BytesIO(data.replace(b"\\", b"\\\\")),
            columns=TARGET_COLUMNS,
            format="text",
        )
        if self._copy_into == "targets":
            self.changed += int(status.rsplit(" ", 1)[-1])

    async def _write_sqlite(self, driver, values: list[str]) -> None:
        if self._now is None:  # one instant for the whole import, as PostgreSQL's now() is
            self._now = [(await driver.execute_fetchall("SELECT CURRENT_TIMESTAMP"))[0][0]]
        before = driver.total_changes
        step = ROWS_PER_STATEMENT * WIDTH
        whole = len(values) - len(values) % step
        if whole:
            statements = [values[i : i + step] + self._now for i in range(0, whole, step)]
            await driver.executemany(self._sqlite(ROWS_PER_STATEMENT), statements)
        if whole < len(values):
            await driver.execute(self._sqlite((len(values) - whole) // WIDTH), values[whole:] + self._now)
        self.changed += driver.total_changes - before

    def _sqlite(self, rows: int) -> str:
        if rows not in self._sqlite_sql:
            self._sqlite_sql[rows] = sqlite_upsert(self._updated, rows)
        return self._sqlite_sql[rows]

    async def finish(self) -> None:
        if self._driver is None:
            return
        connection = await self._session.connection()
        if self._index_dropped:
            await connection.execute(CreateIndex(_CODE_INDEX))
            self._index_dropped = False
            return
        if self._dialect == "postgresql":
            status = await self._driver.execute(postgres_upsert(self._updated))
            self.changed += int(status.rsplit(" ", 1)[-1])

    async def close(self) -> None:
        """Give the connection back its own page cache (SQLite), however the import ends; before
        the transaction ends, while the connection is still the session's."""
        if self._cache_size is not None:
            await self._driver.execute(f"PRAGMA cache_size={int(self._cache_size)}")
            self._cache_size = None
