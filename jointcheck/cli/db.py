"""`jointcheck db upgrade|current`."""

from __future__ import annotations

from jointcheck.cli.context import safe_url
from jointcheck.core import migrate
from jointcheck.core.db import make_engine


def register(commands) -> None:
    parser = commands.add_parser("db", help="database schema")
    sub = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = sub.add_parser("upgrade", help="apply every migration up to REVISION (default: head)")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(handler=upgrade)
    cur = sub.add_parser("current", help="print the schema revision of the database")
    cur.set_defaults(handler=current)


async def upgrade(args, settings) -> int:
    await _to_thread(migrate.upgrade, settings.database_url, args.revision)
    print(f"database {safe_url(settings.database_url)} upgraded to {args.revision}")
    return 0


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
