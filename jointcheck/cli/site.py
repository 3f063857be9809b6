"""`jointcheck site`: the public site alone, read-only, for a host of its own (several can run
behind a proxy against the same database; none of them writes); `jointcheck site export DIR`: a
static copy of it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiohttp import web

from jointcheck.cli.context import open_database

log = logging.getLogger("jointcheck.site")


def register(commands) -> None:
    parser = commands.add_parser(
        "site",
        help="serve the public site only (read-only), on JOINTCHECK_SITE_HOST:JOINTCHECK_SITE_PORT",
        description="Serve the public pages and open-data feeds, and /healthz, without the bot or the scheduler. "
        "The process only reads the database; run as many as needed behind a proxy.",
    )
    parser.set_defaults(handler=site_command)
    sub = parser.add_subparsers(dest="site_command", required=False, metavar="ACTION")
    export = sub.add_parser("export", help="write the whole public site as static files with relative links (opens offline)")
    export.add_argument("folder", help="a new or empty folder")
    export.set_defaults(handler=export_command)


async def export_command(args, settings) -> int:
    from jointcheck.web.static_export import export_site

    async with open_database(settings) as sessionmaker:
        count = await export_site(sessionmaker, args.folder)
    print(f"wrote {count} files of the public site to {args.folder}; open {args.folder}/index.html")
    return 0


async def site_command(args, settings) -> int:
    from jointcheck.web.app import create_app

    # a reader scanning a feed needs no bulk loader's page cache: the site stays small
    async with open_database(settings, sqlite_cache_mib=16) as sessionmaker:
        runner = web.AppRunner(create_app(sessionmaker), handle_signals=False)
        await runner.setup()
        try:
            site = web.TCPSite(runner, settings.site_host, settings.site_port, reuse_port=settings.site_reuse_port)
            await site.start()
            host, port = runner.addresses[0][:2]
            print(f"site on http://{host}:{port}/", flush=True)
            stopped = asyncio.Event()
            loop = asyncio.get_running_loop()
            for number in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(number, stopped.set)
            await stopped.wait()
        finally:
            await runner.cleanup()
    return 0
