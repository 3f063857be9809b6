"""The public site (SPEC capability 7): server-rendered pages and open-data feeds, read-only.

Everything here reads through core/services/disclosure.py, which shows only approved rounds and
published, masked results. No page sets a cookie or accepts a change; every answer carries a
Content-Security-Policy that forbids anything not served from here (the pages use no script).
zh-CN is the default; English is the same path under /en, or any page with ?lang=en.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.ext.asyncio import async_sessionmaker

from jointcheck.core.errors import Conflict, InvalidInput, NotFound
from jointcheck.core.result_categories import CATEGORIES
from jointcheck.core.services import audit_heads, disclosure
from jointcheck.core.uow import UnitOfWork
from jointcheck.web import feeds
from jointcheck.web.keys import DEPARTMENTS_CACHE, SITE_SESSIONMAKER, STATIC_MODE, STATISTICS_CACHE
from jointcheck.web.texts import HTML_LANG, N_, render

STATIC_DIR = Path(__file__).resolve().parent / "static"
VERIFIER = Path(__file__).resolve().parent.parent / "core" / "public_proof.py"
STATIC_LIMIT = 1_000_000
DEPARTMENTS_TTL = 60.0
# The year's statistics group every result of the year, and a chart takes a quarter of a second
# to draw: each is made at most once in this long per process, however often it is asked for.
STATISTICS_TTL = 300.0
# A query string longer than this is refused before it is parsed into anything.
MAX_QUERY = 1000

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

RESULT_FIELD_MEANINGS = {
    "record_id": N_("number of the public record; a correction is a new record"),
    "round_id": N_("the round"),
    "department_code": N_("code of the department that inspected and published"),
    "department_name": N_("name of that department"),
    "item_code": N_("code of the check item"),
    "item_name": N_("name of the check item"),
    "target_code": N_("unified social credit code, or registration number"),
    "target_name": N_("name of the target (an individual's name masked)"),
    "target_kind": N_("kind of target"),
    "region": N_("GB/T 2260 code of the target's region"),
    "category": N_("standard result category (1, A, B, C, E, F, 6, 7, 8, 9)"),
    "follow_up": N_("follow-up: none, order_correction, case_lead, notify_department"),
    "note": N_("the note the reviewing officer made public, masked; usually empty"),
    "inspected_on": N_("date the inspection was completed"),
    "due_by": N_("publication deadline: 20 working days after inspected_on"),
    "published_at": N_("time of publication (UTC, ISO 8601)"),
    "on_time": N_("whether publication met the deadline"),
    "supersedes": N_("the record this one corrects, if any"),
    "superseded_by": N_("the record that corrects this one, if any"),
    "correction_reason": N_("why the correction was made"),
    "inspection_type": N_(
        "random: an inspection of a random draw; case: the inspection of a case (a complaint, referral or monitoring lead)"
    ),
}


class Page:
    """One request's rendering context: its language and how links are written. Links are relative
    (up to the site's root, then down), so the same pages work served and as static files."""

    def __init__(self, language: str, path: str, *, static: bool = False):
        self.language = language
        self.path = path  # the site path, without the language prefix
        self.static = static

    def _where(self, path: str, language: str) -> str:
        if path.startswith("/static/"):
            return path  # one stylesheet for both languages
        if self.static:
            return static_file(path, language)
        if language == "en":
            return "/en/" if path == "/" else "/en" + path
        return path

    def link(self, target: str, **query) -> str:
        return self.link_in(self.language, target, **query)

    def link_in(self, language: str, target: str, **query) -> str:
        """A link from this page to `target` in `language`."""
        here = self._where(self.path, self.language)
        depth = here.count("/") - 1
        goal = self._where(target, language).lstrip("/")
        relative = "../" * depth + goal or "./"
        query = {k: v for k, v in query.items() if v not in (None, "")}
        return relative + ("?" + urlencode(query) if query else "")

    def root(self) -> str:
        """The relative way from this page to its language's root (a prefix for page paths)."""
        depth = self._where(self.path, self.language).count("/") - 1
        return "../" * depth + ("en/" if self.language == "en" else "")

    def other_language_link(self) -> str:
        return self.link_in("en" if self.language == "zh_CN" else "zh_CN", self.path)

    def render(self, template: str, **params) -> str:
        return render(
            self.language,
            template,
            link=self.link,
            other_language_link=self.other_language_link(),
            site_root=self.root(),
            page_suffix=".html" if self.static else "",
            **params,
        )


def static_file(path: str, language: str = "zh_CN") -> str:
    """Where a site path lives in a static copy: /rounds/3 -> /rounds/3.html, / -> /index.html,
    English pages under /en; files (feeds, bundles, the verifier) once, for both languages."""
    if "." in path.rsplit("/", 1)[-1]:
        return path
    prefix = "/en" if language == "en" else ""
    if path == "/":
        return prefix + "/index.html"
    return prefix + path + ".html"


def _language(request: web.Request) -> str:
    if request.path == "/en" or request.path.startswith("/en/"):
        return "en"
    return "en" if request.query.get("lang") == "en" else "zh_CN"


def _site_path(request: web.Request) -> str:
    path = request.path
    if path.startswith("/en/"):
        path = path[3:]
    return path


def _page(request: web.Request) -> Page:
    return Page(_language(request), _site_path(request), static=request.app.get(STATIC_MODE, False))


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def _uow(request: web.Request) -> UnitOfWork:
    return UnitOfWork(request.app[SITE_SESSIONMAKER], read_only=True)


def _query_values(request: web.Request) -> dict[str, str]:
    return {k: v for k, v in request.query.items() if k not in ("after", "lang")}


@web.middleware
async def site_middleware(request: web.Request, handler):
    """Refusals and absences as pages in the reader's language."""
    page = _page(request)
    try:
        if len(request.query_string) > MAX_QUERY:
            raise InvalidInput("query too long")
        response = await handler(request)
    except (NotFound, Conflict):  # a round not drawn has no bundle: nothing to find there yet
        response = _html(
            page.render("error.html", heading=_t(page, N_("Not found")), message=_t(page, N_("There is no public page here."))), 404
        )
    except InvalidInput:
        response = _html(
            page.render(
                "error.html",
                heading=_t(page, N_("Search not understood")),
                message=_t(page, N_("The search is too long or not in the expected form. Please shorten it or correct it and try again.")),
            ),
            400,
        )
    except web.HTTPNotFound:
        response = _html(
            page.render("error.html", heading=_t(page, N_("Not found")), message=_t(page, N_("There is no public page here."))), 404
        )
    return response


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every answer, streamed ones too (their headers leave before a middleware sees them again)."""
    response.headers.update(SECURITY_HEADERS)


def _t(page: Page, message: str) -> str:
    from jointcheck.i18n import translations

    return translations(page.language).gettext(message)


# ---- pages -----------------------------------------------------------------------------------


async def home_page(request: web.Request) -> web.Response:
    async with _uow(request) as uow:
        home = await disclosure.home(uow)
        return _html(_page(request).render("home.html", home=home, rounds=home.rounds))


async def rounds_page(request: web.Request) -> web.Response:
    page = _page(request)
    after = _int(request.query.get("after", ""))
    size = STATIC_LIMIT if page.static else disclosure.PAGE_SIZE
    async with _uow(request) as uow:
        rounds = await disclosure.rounds_list(uow, after, size + 1)
        more = len(rounds) > size
        rounds = rounds[:size]
        next_link = page.link("/rounds", after=rounds[-1][0].id) if more else None
        return _html(page.render("rounds.html", rounds=rounds, next_link=next_link))


def _int(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or len(text) > 12:
        raise InvalidInput("not a number")
    return int(text)


async def round_page(request: web.Request) -> web.Response:
    page = _page(request)
    round_id = _int(request.match_info["round_id"])
    after = _int(request.query.get("after", "")) or 0
    async with _uow(request) as uow:
        data = await disclosure.round_page(uow, round_id, after, STATIC_LIMIT if page.static else disclosure.DRAWN_PAGE)
        next_link = page.link(f"/rounds/{round_id}", after=data.next_after) if data.next_after else None
        return _html(page.render("round.html", page=data, next_link=next_link))


async def results_page(request: web.Request) -> web.Response:
    page = _page(request)
    query = disclosure.check_query(_query_values(request))
    async with _uow(request) as uow:
        found = await disclosure.search_results(uow, query, request.query.get("after", ""))
        departments = await _departments(request, uow)
        params = _query_values(request)
        next_link = page.link("/results", **params, after=found.next_cursor) if found.next_cursor and not page.static else None
        return _html(
            page.render(
                "results.html",
                query=query,
                page=found,
                departments=departments,
                categories=list(CATEGORIES),
                next_link=next_link,
                lang_field=request.query.get("lang") == "en",
                feed_csv=page.link("/results.csv", **params),
                feed_json=page.link("/results.json", **params),
                static=page.static,
            )
        )


async def _departments(request: web.Request, uow: UnitOfWork) -> list[tuple[str, str]]:
    """(code, name) of the departments for the search form, read at most once a minute: they
    change a few times a year, and the search page is the site's most frequent."""
    cache = request.app[DEPARTMENTS_CACHE]
    now = time.monotonic()
    if now - cache.get("at", -DEPARTMENTS_TTL - 1) > DEPARTMENTS_TTL:
        cache["list"] = await disclosure.department_names(uow)
        cache["at"] = now
    return cache["list"]


async def target_page(request: web.Request) -> web.Response:
    page = _page(request)
    async with _uow(request) as uow:
        records = await disclosure.target_history(uow, request.match_info["code"])
        changes = await disclosure.class_history(uow, request.match_info["code"])
    return _html(page.render("target.html", records=records, changes=changes))


async def data_page(request: web.Request) -> web.Response:
    page = _page(request)
    fields = [(name, _t(page, RESULT_FIELD_MEANINGS[name])) for name in disclosure.RESULT_FIELDS]
    return _html(page.render("data.html", result_fields=fields))


async def statistics_page(request: web.Request) -> web.Response:
    """The year's public statistics: the chart as an SVG file beside the page (its drawing styles
    are inline, which the page's Content-Security-Policy would block inline in HTML), and every
    figure of it in tables, readable without the picture. /statistics is this year."""
    page = _page(request)
    async with _uow(request) as uow:
        years = await disclosure.statistics_years(uow)
        year = _year(request) or years[0]
        stats = await _cached(request, ("stats", year), lambda: disclosure.statistics(uow, year))
    return _html(
        page.render(
            "statistics.html",
            stats=stats,
            years=[(y, page.link(f"/statistics/{y}")) for y in years],
            chart=page.link(f"/statistics/{year}/chart-{HTML_LANG[page.language]}.svg"),
        )
    )


def _year(request: web.Request) -> int | None:
    text = request.match_info.get("year", "")
    return int(text) if text else None  # four digits, by the route


async def statistics_chart(request: web.Request) -> web.Response:
    language = {v: k for k, v in HTML_LANG.items()}[request.match_info["lang"]]
    year = _year(request)

    async def draw() -> bytes:
        async with _uow(request) as uow:
            stats = await _cached(request, ("stats", year), lambda: disclosure.statistics(uow, year))
        return await asyncio.to_thread(_svg, stats, language)

    svg = await _cached(request, ("svg", year, language), draw)
    return web.Response(body=svg, content_type="image/svg+xml", charset="utf-8")


def _svg(stats, language: str) -> bytes:
    # matplotlib is imported here, in the worker thread, the first time a chart is asked for.
    from jointcheck.core.charts import stats_svg
    from jointcheck.i18n import translations

    return stats_svg(stats, translations(language).gettext).encode()


async def _cached(request: web.Request, key: tuple, make):
    cache = request.app[STATISTICS_CACHE]
    now = time.monotonic()
    at, value = cache.get(key, (None, None))
    if at is None or now - at > STATISTICS_TTL:
        value = await make()
        cache[key] = (now, value)
    return value


HEADS_PAGE = 100


async def heads_page(request: web.Request) -> web.Response:
    """The audit chain's published heads, newest first: whoever copies one can later hold the chain to it."""
    page = _page(request)
    before = _int(request.query.get("before", ""))
    size = STATIC_LIMIT if page.static else HEADS_PAGE
    async with _uow(request) as uow:
        heads = await audit_heads.published_heads(uow, limit=size + 1, before_id=before)
    more = len(heads) > size
    heads = heads[:size]
    next_link = page.link("/heads", before=heads[-1].id) if more else None
    return _html(page.render("heads.html", heads=heads, next_link=next_link))


async def bundle(request: web.Request) -> web.StreamResponse:
    return await feeds.public_bundle(request, _uow(request), _int(request.match_info["round_id"]))


async def verifier(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(
        VERIFIER, headers={"Content-Type": "text/x-python; charset=utf-8", "Content-Disposition": 'attachment; filename="public_proof.py"'}
    )


async def to_english_home(request: web.Request) -> web.Response:
    raise web.HTTPFound("/en/")


def mount_site(app: web.Application, sessionmaker: async_sessionmaker) -> None:
    """The public pages and feeds on `app`, under / (zh-CN) and /en (English)."""
    app[SITE_SESSIONMAKER] = sessionmaker
    app[DEPARTMENTS_CACHE] = {}
    app[STATISTICS_CACHE] = {}
    app.middlewares.append(site_middleware)
    app.on_response_prepare.append(security_headers)
    routes = [
        ("/", home_page),
        ("/rounds", rounds_page),
        ("/rounds/{round_id}", round_page),
        ("/rounds/{round_id}/bundle.zip", bundle),
        ("/results", results_page),
        ("/targets/{code}", target_page),
        ("/data", data_page),
        ("/statistics", statistics_page),
        (r"/statistics/{year:\d{4}}", statistics_page),
        (r"/statistics/{year:\d{4}}/chart-{lang:zh-CN|en}.svg", statistics_chart),
        ("/heads", heads_page),
        ("/heads.csv", feeds.heads_csv),
        ("/heads.json", feeds.heads_json),
        ("/verifier/public_proof.py", verifier),
        ("/results.csv", feeds.results_csv),
        ("/results.json", feeds.results_json),
        ("/items.csv", feeds.items_csv),
        ("/items.json", feeds.items_json),
        ("/rounds.csv", feeds.rounds_csv),
        ("/rounds.json", feeds.rounds_json),
    ]
    for prefix in ("", "/en"):
        for path, handler in routes:
            app.router.add_get(prefix + path, handler)
    app.router.add_get("/en", to_english_home)
    app.router.add_static("/static", STATIC_DIR, append_version=False)
