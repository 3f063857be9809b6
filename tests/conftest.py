"""Database fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL (and Redis) are used when reachable and skipped with the reason otherwise; with
JOINTCHECK_TEST_REQUIRE_SERVICES=1 (as .ci/run sets) an unreachable server fails the run instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid

# Imported before any test runs: CPython 3.11.7 can fail to compile a module imported late in a
# session ("AST constructor recursion depth mismatch", fixed in 3.11.8), and hypothesis is such a module.
import hypothesis  # noqa: F401
import pytest
from sqlalchemy.engine import make_url

from jointcheck.core import migrate
from jointcheck.core.db import make_engine, make_sessionmaker
from jointcheck.core.uow import UnitOfWork

PG_URL = os.environ.get("JOINTCHECK_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("JOINTCHECK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE = os.environ.get("JOINTCHECK_TEST_REQUIRE_SERVICES") == "1"


def unavailable(what: str, why: str):
    message = f"{what} not reachable ({why})"
    if REQUIRE:
        pytest.fail(message + " and JOINTCHECK_TEST_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(message)


async def _pg_admin(sql: str) -> None:
    import asyncpg

    url = make_url(PG_URL)
    conn = await asyncpg.connect(
        user=url.username, password=url.password, host=url.host, port=url.port or 5432, database=url.database, timeout=5
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


class PostgresDatabases:
    """Makes throw-away databases on the test server and drops them at the end of the session."""

    def __init__(self):
        self.created: list[str] = []
        self.error: str | None = None
        try:
            run_in_thread(_pg_admin("SELECT 1"))
        except Exception as exc:  # any failure to connect means: not reachable
            self.error = f"{PG_URL}: {type(exc).__name__}: {exc}"

    def new(self) -> str:
        name = f"jc_test_{uuid.uuid4().hex[:12]}"
        run_in_thread(_pg_admin(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        for name in self.created:
            try:
                run_in_thread(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except Exception:
                pass


@pytest.fixture(autouse=True)
def files_dir(tmp_path, monkeypatch):
    """Each test keeps the evidence it makes in its own file store, never in the working tree."""
    path = tmp_path / "files"
    monkeypatch.setenv("JOINTCHECK_FILES_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def postgres_databases():
    databases = PostgresDatabases()
    yield databases
    databases.drop_all()


@pytest.fixture
def empty_database_url(request, tmp_path, postgres_databases):
    """A database with no schema at all, of the parametrized backend (for migration tests)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    if postgres_databases.error:
        unavailable("PostgreSQL", postgres_databases.error)
    return postgres_databases.new()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def postgres_migrated(postgres_databases):
    if postgres_databases.error:
        return None
    url = postgres_databases.new()
    migrate.upgrade(url)
    return url


async def _truncate_all(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            tables = (
                (
                    await conn.exec_driver_sql(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                    )
                )
                .scalars()
                .all()
            )
            if tables:
                # the audit tables refuse TRUNCATE (migration 0005) but for a superuser who says so
                await conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
                await conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path, sqlite_template, postgres_databases, postgres_migrated) -> str:
    """A migrated, empty database of each backend."""
    if request.param == "sqlite":
        path = tmp_path / "jointcheck.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    if postgres_migrated is None:
        unavailable("PostgreSQL", postgres_databases.error)
    run_in_thread(_truncate_all(postgres_migrated))
    return postgres_migrated


def run_in_thread(coro):
    """Run a coroutine to completion on its own loop, whether or not a loop is running here."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture
async def sessionmaker(db_url):
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
def uow_factory(sessionmaker):
    def make(clock=None) -> UnitOfWork:
        return UnitOfWork(sessionmaker, clock)

    return make


@pytest.fixture
def redis_url():
    """The test Redis database; under pytest-xdist each worker has its own (15, 14, … for gw0, gw1, …),
    since the tests use the same Telegram user ids in the same keys."""
    try:
        import redis
    except ImportError as exc:
        unavailable("Redis", f"client not installed: {exc}")
    url = _worker_redis_url(REDIS_URL, os.environ.get("PYTEST_XDIST_WORKER", "gw0"))
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except Exception as exc:
        unavailable("Redis", f"{url}: {type(exc).__name__}: {exc}")
    finally:
        client.close()
    return url


def _worker_redis_url(url: str, worker: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) - int(worker.removeprefix("gw") or 0)
    return parts._replace(path=f"/{database % 16}").geturl()


async def clear_fsm_keys(redis_url: str | None, user_id: int) -> None:
    """Remove one Telegram user's conversation state from Redis, and only theirs: other tests may
    share the Redis database."""
    if redis_url is None:
        return
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(f"fsm:{user_id}:{user_id}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


from tests.cli_helpers import cli  # noqa: E402,F401  (fixture re-export)
