"""Engine and session factory for the async database, SQLite or PostgreSQL."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

# Execution option of a unit of work that only reads (see UnitOfWork's `read_only`).
READ_ONLY = "jointcheck_read_only"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, sqlite_cache_mib: int = 128, **kwargs) -> AsyncEngine:
    """`sqlite_cache_mib`: SQLite's page cache per connection; a process that only reads (the
    public site) keeps its memory small with less, a bulk import wants much more."""
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        _serialize_sqlite_writers(engine, sqlite_cache_mib)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def _serialize_sqlite_writers(engine: AsyncEngine, cache_mib: int = 128) -> None:
    # pysqlite's implicit, deferred BEGIN lets two transactions read the same audit chain head and
    # then fail on write; BEGIN IMMEDIATE makes every unit of work wait its turn for the write lock
    # instead (the recipe from SQLAlchemy's "Serializable isolation / Savepoints" notes).
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # PostgreSQL's LIKE is case-sensitive; without this SQLite's is not, and department 'samr'
        # would match the lists of 'SAMR'.
        cursor.execute("PRAGMA case_sensitive_like=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # SQLite's default page cache is 2 MiB; a directory's indexes need far more to take
        # bulk upserts without re-reading pages from the OS for every row.
        cursor.execute(f"PRAGMA cache_size=-{int(cache_mib) * 1024}")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn):
        # A reader needs a snapshot, not the write lock: holding it would make writers wait for it.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
