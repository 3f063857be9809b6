"""Upserting batches of target rows at directory scale, in the caller's transaction.

The ORM is bypassed on purpose: a province has 20 million targets, so rows travel as tuples to the
driver (executemany on SQLite; COPY into a staging table and one set-based upsert on PostgreSQL).
"""

from __future__ import annotations

import csv
import io

from sqlalchemy.ext.asyncio import AsyncSession

TARGET_COLUMNS = ("code", "name", "kind", "region", "industry", "risk", "departments", "tags", "status", "address")


def _upsert_sql(values_clause: str, distinct_op: str, updated: tuple[str, ...]) -> str:
    """Insert new codes; for known ones change only the `updated` columns, and only if they differ.

    A file without, say, a status column must not reactivate what was deregistered, so columns
    the file lacks are left alone; unchanged rows are not rewritten, so re-importing touches nothing.
    """
    cols = ", ".join(TARGET_COLUMNS)
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


def sqlite_upsert(updated: tuple[str, ...]) -> str:
    return _upsert_sql(f"VALUES ({', '.join('?' * len(TARGET_COLUMNS))}, CURRENT_TIMESTAMP)", "IS NOT", updated)


def postgres_upsert(updated: tuple[str, ...]) -> str:
    # "WHERE true" keeps PostgreSQL from reading ON CONFLICT as part of the SELECT's join syntax.
    source = f"SELECT {', '.join(TARGET_COLUMNS)}, CURRENT_TIMESTAMP FROM targets_staging WHERE true ORDER BY code"
    return _upsert_sql(source, "IS DISTINCT FROM", updated)


class TargetBulkWriter:
    """`write` batches of tuples in TARGET_COLUMNS order, then `finish`; `changed` counts rows written.

    SQLite takes each batch with executemany (its C loop releases the GIL while SQLite works, so the
    next batch is validated meanwhile). PostgreSQL receives each batch as CSV through COPY into a
    staging table, and `finish` upserts the whole of it in one statement.
    """

    def __init__(self, session: AsyncSession, present: tuple[str, ...] = TARGET_COLUMNS):
        """`present`: the columns the file had; only those change on rows that exist already."""
        self._session = session
        updated = tuple(c for c in TARGET_COLUMNS if c != "code" and c in present)
        self._sqlite_sql, self._postgres_sql = sqlite_upsert(updated), postgres_upsert(updated)
        self.changed = 0
        self._dialect = session.bind.dialect.name
        self._driver = None

    async def _driver_connection(self):
        if self._driver is None:
            connection = await self._session.connection()
            raw = await connection.get_raw_connection()
            self._driver = raw.driver_connection
            if self._dialect == "postgresql":
                await self._driver.execute(
                    "CREATE TEMP TABLE targets_staging (LIKE targets INCLUDING DEFAULTS) ON COMMIT DROP"
                )
        return self._driver

    async def write(self, rows: list[tuple]) -> None:
        if not rows:
            return
        driver = await self._driver_connection()
        if self._dialect == "sqlite":
            before = driver.total_changes
            await driver.executemany(self._sqlite_sql, rows)
            self.changed += driver.total_changes - before
        else:
            buffer = io.StringIO()
            # Every value quoted: an unquoted \N would arrive as NULL.
            csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)
            await driver.copy_to_table(
                "targets_staging", source=io.BytesIO(buffer.getvalue().encode("utf-8")),
                columns=TARGET_COLUMNS, format="csv", null="\\N",
            )

    async def finish(self) -> None:
        if self._dialect == "postgresql" and self._driver is not None:
            status = await self._driver.execute(self._postgres_sql)
            self.changed += int(status.rsplit(" ", 1)[-1])
