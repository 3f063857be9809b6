"""The site's aiohttp application: the health check an operator's load balancer polls, the public
pages and feeds (web/site.py, SPEC capability 7), and with `run --webhook` the Bot API webhook
(web/webhook.py)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from jointcheck.web.site import mount_site

SESSIONMAKER = web.AppKey("sessionmaker", async_sessionmaker)


def create_app(sessionmaker: async_sessionmaker) -> web.Application:
    # A request line up to 128 KiB reaches the site, which refuses a long search with a page in the
    # reader's language (a 10,000-character Chinese search is 90 KB percent-encoded) instead of
    # aiohttp's bare "Got more than 8190 bytes".
    app = web.Application(handler_args={"max_line_size": 131072})
    app[SESSIONMAKER] = sessionmaker
    app.router.add_get("/healthz", healthz)
    mount_site(app, sessionmaker)
    return app


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers, 503 otherwise: a worker that cannot reach it should get no traffic."""
    try:
        async with request.app[SESSIONMAKER]() as session:
            await session.execute(text("SELECT 1"))
    except Exception as error:  # any failure means: not ready
        return web.json_response({"status": "unavailable", "error": type(error).__name__}, status=503)
    return web.json_response({"status": "ok"})
