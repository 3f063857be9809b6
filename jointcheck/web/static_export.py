"""`jointcheck site export DIR`: the whole public site as static files with relative links, for
any web server or a USB stick; it opens offline (file://), in both languages.

The pages are the site's own, fetched from the app served on a loopback port in static mode (links
to .html files, no paging by query), so the copy is exactly what the site shows.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import async_sessionmaker

from jointcheck.core.errors import InvalidInput
from jointcheck.core.services import disclosure
from jointcheck.core.uow import UnitOfWork
from jointcheck.web.keys import STATIC_MODE
from jointcheck.web.site import STATIC_DIR, mount_site, static_file

FILES = (
    "/results.csv",
    "/results.json",
    "/items.csv",
    "/items.json",
    "/rounds.csv",
    "/rounds.json",
    "/heads.csv",
    "/heads.json",
    "/verifier/public_proof.py",
)


async def _paths(sessionmaker: async_sessionmaker) -> tuple[list[str], list[str]]:
    """(pages, other files) of the site, without language prefix."""
    pages = ["/", "/rounds", "/results", "/data", "/statistics", "/heads"]
    files = list(FILES)
    async with UnitOfWork(sessionmaker, read_only=True) as uow:
        rounds, drawn = await disclosure.public_round_ids(uow)
        for year in await disclosure.statistics_years(uow):
            pages.append(f"/statistics/{year}")
            files += [f"/statistics/{year}/chart-{language}.svg" for language in ("zh-CN", "en")]
        pages += [f"/rounds/{r}" for r in rounds]
        files += [f"/rounds/{r}/bundle.zip" for r in drawn]
        after = ""
        while codes := await disclosure.published_codes(uow, after):
            pages += [f"/targets/{code}" for code in codes]
            after = codes[-1]
    return pages, files


async def export_site(sessionmaker: async_sessionmaker, folder: str | Path) -> int:
    """Write the copy into `folder` (new, or empty); returns the number of files written."""
    target = Path(folder)
    if target.exists() and any(target.iterdir()):
        raise InvalidInput(f"{target} is not empty: choose a new or empty folder")
    app = web.Application()
    app[STATIC_MODE] = True
    mount_site(app, sessionmaker)
    runner = web.AppRunner(app)
    await runner.setup()
    written = 0
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        pages, files = await _paths(sessionmaker)
        async with aiohttp.ClientSession(f"http://{host}:{port}") as client:
            for path in files:
                written += await _fetch(client, path, target / path.lstrip("/"))
            for language, prefix in (("zh_CN", ""), ("en", "/en")):
                for path in pages:
                    served = (prefix + path) if path != "/" else (prefix + "/" if prefix else "/")
                    written += await _fetch(client, served, target / static_file(path, language).lstrip("/"))
        shutil.copytree(STATIC_DIR, target / "static", dirs_exist_ok=True)
    finally:
        await runner.cleanup()
    return written


async def _fetch(client: aiohttp.ClientSession, path: str, destination: Path) -> int:
    destination.parent.mkdir(parents=True, exist_ok=True)
    async with client.get(path) as response:
        if response.status != 200:
            raise RuntimeError(f"{path}: the site answered {response.status}")
        with open(destination, "wb") as out:
            async for chunk in response.content.iter_chunked(1 << 16):
                out.write(chunk)
    return 1
