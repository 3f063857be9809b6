"""The site's aiohttp application. For now it serves the health check an operator's load balancer
polls; the public pages (SPEC capability 7) and the Bot API webhook (web/webhook.py) are mounted on
this same app."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

SESSIONMAKER = web.AppKey("sessionmaker", async_sessionmaker)


def create_app(sessionmaker: async_sessionmaker) -> web.Application:
    app = web.Application()
    app[SESSIONMAKER] = sessionmaker
    app.router.add_get("/healthz", healthz)
    return app


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers, 503 otherwise: a worker that cannot reach it should get no traffic."""
    try:
        async with request.app[SESSIONMAKER]() as session:
            await session.execute(text("SELECT 1"))
    except Exception as error:  # any failure means: not ready
        return web.json_response({"status": "unavailable", "error": type(error).__name__}, status=503)
    return web.json_response({"status": "ok"})
