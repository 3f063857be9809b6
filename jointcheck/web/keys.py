"""What the site's handlers find on the aiohttp app (its pages and feeds modules both read them)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import async_sessionmaker

SITE_SESSIONMAKER = web.AppKey("site_sessionmaker", async_sessionmaker)
# Pages for a static copy (`jointcheck site export`): links to .html files, no paging by query.
STATIC_MODE = web.AppKey("static_mode", bool)
DEPARTMENTS_CACHE = web.AppKey("departments_cache", dict)
# The public statistics and their charts, by year (and language), with when they were made.
STATISTICS_CACHE = web.AppKey("statistics_cache", dict)
