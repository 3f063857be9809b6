"""Schema changes through Alembic only: the service, the CLI and the tests all come here."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would choke on a '%' in a password.
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def _in_thread(fn, *args) -> None:
    # env.py starts its own event loop; run it where no loop is running yet.
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        fn(*args)
        return
    import threading

    errors: list[BaseException] = []

    def target() -> None:
        try:
            fn(*args)
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def upgrade(database_url: str, revision: str = "head") -> None:
    _in_thread(command.upgrade, alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    _in_thread(command.downgrade, alembic_config(database_url), revision)


def revisions(database_url: str) -> list[str]:
    """Every revision id, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(database_url))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


async def current_revision(engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as connection:
        return await connection.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


def head_revision(database_url: str) -> str:
    return revisions(database_url)[-1]


# ---- SQLite: the space a rebuilt table leaves behind ---------------------------------------------
# A batch-mode migration (0004) copies a table and drops the old one; SQLite keeps the old pages in
# the file as free pages, so a 10M directory went from 1.7 GB to 3.3 GB. Only VACUUM gives them back.

# `db upgrade` vacuums when the upgrade left at least this share of the file free.
RECLAIM_SHARE = 0.25


@dataclass(frozen=True)
class FileSpace:
    pages: int
    free_pages: int
    page_size: int

    @property
    def size(self) -> int:
        return self.pages * self.page_size

    @property
    def free(self) -> int:
        return self.free_pages * self.page_size

    @property
    def free_share(self) -> float:
        return self.free_pages / self.pages if self.pages else 0.0


def sqlite_path(database_url: str) -> str | None:
    """The file of a SQLite URL; None for another database or an in-memory one."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return url.database


def file_space(path: str) -> FileSpace:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        pages, free, size = (connection.execute(f"PRAGMA {name}").fetchone()[0] for name in ("page_count", "freelist_count", "page_size"))
    return FileSpace(pages, free, size)


def vacuum(path: str) -> FileSpace:
    """Rewrite the file without its free pages; the space after. Needs the file to itself (stop the
    service) and up to its size again in free disk while it runs."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None, timeout=30)) as connection:
        connection.execute("VACUUM")
        # In WAL mode the rewritten pages sit in the -wal file until a checkpoint moves them and
        # truncates the database file.
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return file_space(path)
