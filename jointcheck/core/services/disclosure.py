"""The public side's reads (SPEC capability 7): what anyone may see, without an account.

Only approved rounds exist here (before approval a round answers as one that does not exist), only
published results (their public records, masked when written), never an inspector's name, never a
note the reviewing officer kept internal. Every list is a keyset page; feeds are streamed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from jointcheck.core.clock import DOMAIN_TZ, local_date
from jointcheck.core.errors import InvalidInput, NotFound
from jointcheck.core.masking import mask_target_name
from jointcheck.core.models import CheckItem, Department, Draw, Plan, Round
from jointcheck.core.public_record import RESULT_FIELDS
from jointcheck.core.repositories.public import ResultFilter
from jointcheck.core.services.stats import Statistics, public_statistics, year_bounds
from jointcheck.core.uow import UnitOfWork

PAGE_SIZE = 50
DRAWN_PAGE = 200
# Bounds on what a query string may ask: a longer value is refused before any SQL runs.
MAX_TEXT = 100
MAX_CODE = 64


@dataclass(frozen=True)
class PublicRecord:
    record_id: int
    round_id: int
    department_code: str
    department_name: str
    item_code: str
    item_name: str
    target_code: str
    target_name: str
    target_kind: str
    region: str
    category: str
    follow_up: str
    note: str
    inspected_on: dt.date | None
    due_by: dt.date | None
    published_at: dt.datetime
    on_time: bool | None
    supersedes: int | None
    superseded_by: int | None
    correction_reason: str
    case: bool = False  # a case's (个案) inspection, not a random draw's: its round has no public page

    @classmethod
    def of(cls, row: tuple) -> PublicRecord:
        (rid, round_id, _dep_id, dep_code, dep_name, item_code, item_name, *rest, round_kind) = row
        return cls(rid, round_id, dep_code, dep_name, item_code, item_name, *rest, case=round_kind == "case")


__all__ = ["RESULT_FIELDS", "PublicRecord"]


def plain(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class ResultQuery:
    """What a reader asked for, checked: `q` is a credit code / registration number or a name prefix."""

    q: str = ""
    department: str = ""
    item: str = ""
    category: str = ""
    region: str = ""
    period_from: dt.date | None = None
    period_to: dt.date | None = None
    round_id: int | None = None

    def is_code(self) -> bool:
        """Letters and digits only, no Chinese: a credit code (18) or registration number (15), or
        another directory code; anything else is the start of a name."""
        text = self.q.strip()
        return bool(text) and text.isascii() and text.isalnum() and len(text) <= MAX_CODE


def check_query(values: dict[str, str]) -> ResultQuery:
    """Refuses, with the reason, any parameter that is too long or malformed."""
    for name, value in values.items():
        if len(value) > MAX_TEXT:
            raise InvalidInput(f"{name}: at most {MAX_TEXT} characters")

    def date(name: str) -> dt.date | None:
        text = values.get(name, "").strip()
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise InvalidInput(f"{name}: a date as YYYY-MM-DD") from None

    region = values.get("region", "").strip()
    if region and not (region.isdigit() and len(region) <= 6):
        raise InvalidInput("region: a GB/T 2260 code or its first digits")
    round_text = values.get("round", "").strip()
    if round_text and not (round_text.isdigit() and len(round_text) < 10):
        raise InvalidInput("round: a round number")
    return ResultQuery(
        q=values.get("q", "").strip(),
        department=values.get("department", "").strip()[:MAX_CODE],
        item=values.get("item", "").strip()[:MAX_CODE],
        category=values.get("category", "").strip()[:2],
        region=region,
        period_from=date("from"),
        period_to=date("to"),
        round_id=int(round_text) if round_text else None,
    )


async def _filter(uow: UnitOfWork, query: ResultQuery) -> ResultFilter | None:
    """The repository's filter; None when it can match nothing (an unknown department)."""
    department_id = None
    if query.department:
        department = await uow.departments.by_code(query.department)
        if department is None:
            return None
        department_id = department.id
    start = dt.datetime.combine(query.period_from, dt.time(), tzinfo=DOMAIN_TZ) if query.period_from else None
    end = dt.datetime.combine(query.period_to + dt.timedelta(days=1), dt.time(), tzinfo=DOMAIN_TZ) if query.period_to else None
    code = query.q.upper() if query.is_code() else ""
    return ResultFilter(
        code=code,
        name="" if code else query.q,
        department_id=department_id,
        item_code=query.item,
        category=query.category,
        region=query.region,
        published_from=start,
        published_before=end,
        round_id=query.round_id,
    )


def encode_cursor(record: PublicRecord, by_name: bool) -> str:
    return f"{record.target_name}\x1f{record.record_id}" if by_name else str(record.record_id)


def _decode_cursor(text: str, by_name: bool) -> tuple | None:
    if not text:
        return None
    if len(text) > MAX_TEXT + 20:
        raise InvalidInput("after: not a page of this search")
    try:
        if by_name:
            name, _, rid = text.rpartition("\x1f")
            return (name, int(rid))
        return (int(text),)
    except ValueError:
        raise InvalidInput("after: not a page of this search") from None


@dataclass(frozen=True)
class ResultPage:
    records: list[PublicRecord]
    next_cursor: str | None
    by_name: bool


async def search_results(uow: UnitOfWork, query: ResultQuery, after: str = "", limit: int = PAGE_SIZE) -> ResultPage:
    f = await _filter(uow, query)
    by_name = f is not None and bool(f.name) and not f.code
    cursor = _decode_cursor(after, by_name)
    if f is None:
        return ResultPage([], None, by_name)
    rows = await uow.public.search(f, cursor, limit + 1)
    records = [PublicRecord.of(r) for r in rows[:limit]]
    more = len(rows) > limit
    return ResultPage(records, encode_cursor(records[-1], by_name) if more else None, by_name)


async def target_history(uow: UnitOfWork, code: str, limit: int = 500) -> list[PublicRecord]:
    """A target's public record across departments and rounds; a target nothing was published about
    is not found (the directory itself is not public)."""
    if len(code) > MAX_CODE:
        raise InvalidInput(f"a code has at most {MAX_CODE} characters")
    records = [PublicRecord.of(r) for r in await uow.public.history(code, limit)]
    if not records:
        raise NotFound(f"nothing published about {code}")
    return records


@dataclass(frozen=True)
class ClassChange:
    """A change of the target's credit-risk class, made when results were published."""

    changed_at: dt.datetime
    from_class: str
    to_class: str
    reason: str  # raise | lower
    categories: tuple[str, ...]  # the published categories that decided it


async def class_history(uow: UnitOfWork, code: str, limit: int = 100) -> list[ClassChange]:
    """A target's changes of credit class, newest first: only the classes, their dates and the
    published categories behind them (never who inspected, never a case's complaint)."""
    if len(code) > MAX_CODE:
        raise InvalidInput(f"a code has at most {MAX_CODE} characters")
    return [
        ClassChange(at, before, after, reason, tuple(filter(None, categories.split(";"))))
        for at, before, after, reason, categories in await uow.public.class_changes(code, limit)
    ]


async def results_stream(uow: UnitOfWork, query: ResultQuery, kind: str) -> AsyncIterator[str]:
    """The results feed for this query, a batch at a time: CSV lines (`kind` "csv") or JSON objects
    separated by commas ("json"), from each record's stored serialization."""
    f = await _filter(uow, query)
    if f is None:
        return
    separator = "" if kind == "csv" else ",\n"
    async for rows in uow.public.stream(f, kind):
        yield separator.join([line for _, line in rows])


async def results_version(uow: UnitOfWork) -> tuple[str, dt.datetime | None]:
    """(ETag, Last-Modified) of the results feeds, whatever their filter: the public record only
    grows (a correction is a new record, and marks the old one in the same transaction), so its
    newest record names its version, read from the primary key's end instead of a count."""
    top, latest = await uow.public.version()
    return f'"r-{top}"', latest


# ---- rounds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrawnTarget:
    visit_order: int
    target_code: str
    target_name: str
    region: str
    stratum: str
    batch: int | None
    departments: list[str]


@dataclass
class RoundPage:
    round: Round
    lead: Department | None
    participants: list[tuple[Department, int, bool]]  # (department, team size, lead)
    items: list[tuple[CheckItem, Department]]
    scope: dict
    ratios: dict
    cooling_off: dict
    draw: Draw | None
    drawn: list[DrawnTarget] = field(default_factory=list)
    next_after: int | None = None
    task_count: int = 0
    publications: list[tuple] = field(default_factory=list)

    @property
    def drawn_done(self) -> bool:
        return self.draw is not None and self.draw.drawn_at is not None


async def public_round(uow: UnitOfWork, round_id: int) -> Round:
    round_ = await uow.public.public_round(round_id)
    if round_ is None:
        raise NotFound(f"round {round_id} not found")
    return round_


async def round_page(uow: UnitOfWork, round_id: int, after: int = 0, limit: int = DRAWN_PAGE) -> RoundPage:
    round_ = await public_round(uow, round_id)
    participants = await uow.public.participants(round_id)
    lead = next((d for p, d in participants if p.is_lead), None)
    draw = await uow.public.draw(round_id)
    page = RoundPage(
        round=round_,
        lead=lead,
        participants=[(d, p.team_size, p.is_lead) for p, d in participants],
        items=await uow.public.round_items(round_id),
        scope=json.loads(round_.scope or "{}"),
        ratios=json.loads(round_.ratios or "{}"),
        cooling_off=json.loads(round_.cooling_off or "{}"),
        draw=draw,
    )
    if page.drawn_done:
        rows = await uow.public.drawn_targets(round_id, max(after, 0), limit + 1)
        page.drawn = [
            DrawnTarget(
                t.visit_order, g.code, mask_target_name(g.name, g.kind), g.region, t.stratum, t.batch, codes.split(";") if codes else []
            )
            for t, g, codes in rows[:limit]
        ]
        page.next_after = page.drawn[-1].visit_order if len(rows) > limit else None
        page.task_count = await uow.rounds.task_count(round_id)
        page.publications = await uow.public.publications(round_id)
    return page


async def rounds_list(uow: UnitOfWork, after: int | None = None, limit: int = PAGE_SIZE) -> list[tuple[Round, Department, Draw | None]]:
    return await uow.public.public_rounds(after, limit)


# ---- home ------------------------------------------------------------------------------------


@dataclass
class Home:
    jurisdictions: list[tuple[str, str]]
    departments: list[Department]
    general_items: list[tuple[CheckItem, Department]]
    key_items: list[tuple[CheckItem, Department]]
    plans: list[Plan]
    rounds: list[tuple[Round, Department, Draw | None]]


async def home(uow: UnitOfWork) -> Home:
    items = await uow.public.current_items()
    codes = await uow.public.jurisdictions()
    names = await uow.public.regions_of(codes)
    return Home(
        jurisdictions=[(c, names.get(c, "")) for c in codes],
        departments=await uow.public.departments(),
        general_items=[(i, d) for i, d in items if i.category == "general"],
        key_items=[(i, d) for i, d in items if i.category == "key"],
        plans=await uow.public.plans(),
        rounds=await uow.public.public_rounds(None, PAGE_SIZE),
    )


async def items_version(uow: UnitOfWork) -> str:
    count, top = await uow.public.items_version()
    return f'"i-{count}-{top}"'


async def current_items(uow: UnitOfWork) -> list[tuple[CheckItem, Department]]:
    return await uow.public.current_items()


async def published_codes(uow: UnitOfWork, after: str = "", limit: int = 1000) -> list[str]:
    """Targets with a public page, a keyset page at a time (for a static copy of the site)."""
    return await uow.public.published_codes(after, limit)


async def public_round_ids(uow: UnitOfWork) -> tuple[list[int], list[int]]:
    """(every public round, the drawn ones, which have a bundle)."""
    return await uow.public.public_round_ids(), await uow.public.drawn_round_ids()


# ---- statistics ------------------------------------------------------------------------------


async def statistics_years(uow: UnitOfWork) -> list[int]:
    """The years the statistics pages offer, newest first: from the first year of a plan or an
    approved round to this year in China."""
    this = local_date(uow.clock()).year
    first = await uow.public.first_year()
    return list(range(this, max(min(first or this, this), 2000) - 1, -1))


async def statistics(uow: UnitOfWork, year: int) -> Statistics:
    """The year's public statistics (a year outside 2000-2100 is refused as bad input)."""
    year_bounds(year)
    return await public_statistics(uow, year=year)


async def department_names(uow: UnitOfWork) -> list[tuple[str, str]]:
    """(code, name) of every department, for the search form."""
    return [(d.code, d.name) for d in await uow.public.departments()]
