"""`jointcheck db upgrade|current|vacuum`."""

from __future__ import annotations

import os

from jointcheck.cli.context import safe_url
from jointcheck.core import migrate
from jointcheck.core.db import make_engine
from jointcheck.core.errors import InvalidInput


def register(commands) -> None:
    parser = commands.add_parser("db", help="database schema")
    sub = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = sub.add_parser("upgrade", help="apply every migration up to REVISION (default: head)")
    up.add_argument("revision", nargs="?", default="head", help="the Alembic revision to reach (default: the newest)")
    up.add_argument(
        "--no-vacuum",
        action="store_true",
        help="on SQLite, do not reclaim the space a rebuilt table leaves free (say how much, and how to later)",
    )
    up.set_defaults(handler=upgrade)
    vac = sub.add_parser(
        "vacuum",
        help="SQLite: give the file's free pages back to the disk (stop the service first; "
        "needs free disk up to the file's size while it runs)",
    )
    vac.set_defaults(handler=vacuum)
    cur = sub.add_parser("current", help="print the schema revision of the database")
    cur.set_defaults(handler=current)


async def upgrade(args, settings) -> int:
    path = migrate.sqlite_path(settings.database_url)
    before = migrate.file_space(path) if path and os.path.exists(path) else None
    await _to_thread(migrate.upgrade, settings.database_url, args.revision)
    print(f"database {safe_url(settings.database_url)} upgraded to {args.revision}")
    if path is None:
        return 0
    after = migrate.file_space(path)
    left = after.free_pages - (before.free_pages if before else 0)
    if left <= 0 or after.free_share < migrate.RECLAIM_SHARE:
        return 0
    free = f"{_size(after.free)} of the file's {_size(after.size)} are free pages, left by a rebuilt table"
    if args.no_vacuum:
        print(f"{free}: `jointcheck db vacuum` gives them back (stop the service first; it needs about {_size(after.size)} of free disk)")
        return 0
    print(f"{free}: reclaiming them (VACUUM)...", flush=True)
    await _vacuum(path, after)
    return 0


async def vacuum(args, settings) -> int:
    path = migrate.sqlite_path(settings.database_url)
    if path is None:
        raise InvalidInput("db vacuum is for a SQLite file; PostgreSQL reclaims space with its own VACUUM (autovacuum)")
    await _vacuum(path, migrate.file_space(path))
    return 0


async def _vacuum(path: str, before: migrate.FileSpace) -> None:
    after = await _to_thread(migrate.vacuum, path)
    print(f"{path}: {_size(before.size)} -> {_size(after.size)}, {after.free_pages} free pages")


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "bytes" else f"{n} bytes"
        n /= 1024
    raise AssertionError("unreachable")


async def current(args, settings) -> int:
    engine = make_engine(settings.database_url)
    try:
        print(await migrate.current_revision(engine) or "none")
    finally:
        await engine.dispose()
    return 0


async def _to_thread(fn, *args):
    import asyncio

    return await asyncio.to_thread(fn, *args)
