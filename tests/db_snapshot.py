"""A full logical snapshot of a database, to prove that something changed nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from jointcheck.core.db import make_engine
from tests.conftest import run_in_thread


async def _rows(url: str) -> dict[str, list[tuple]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
            out = {}
            for table in sorted(tables):
                rows = (await conn.execute(text(f'SELECT * FROM "{table}"'))).all()
                out[table] = sorted(tuple(map(repr, r)) for r in rows)
            return out
    finally:
        await engine.dispose()


def snapshot(url: str) -> tuple[dict, str | None]:
    """Every row of every table, and for SQLite the main file's SHA-256 once all connections closed."""
    rows = run_in_thread(_rows(url))
    file_hash = None
    if url.startswith("sqlite"):
        path = Path(make_url(url).database)
        file_hash = hashlib.sha256(path.read_bytes()).hexdigest()
    return rows, file_hash
