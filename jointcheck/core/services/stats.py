"""Statistics for conveners and officers (SPEC capability 12), and the public ones for the site.

The database does the counting (repositories/stats.py groups every table down to a few rows);
here the few rows become figures: coverage of each department's items against the tasks planned,
results by category and the problem rate, tasks completed by their due date, results published
within 20 working days of completion (the Chinese working-day calendar), ratio caps kept by each
frozen round, inspectors' load and the credit loop's moves. A year is a year in China; a round
belongs to the year of its plan, or
when it has none to the year it was proposed in.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cache

from jointcheck.core.authz import Action, Actor, Reach, reach
from jointcheck.core.clock import DOMAIN_TZ, local_date
from jointcheck.core.credit_policy import CreditPolicy, active_policy
from jointcheck.core.errors import InvalidInput
from jointcheck.core.regions import is_region_code
from jointcheck.core.services.deadlines import PUBLICATION_WORKING_DAYS
from jointcheck.core.uow import UnitOfWork
from jointcheck.core.workdays import add_working_days


@dataclass(frozen=True)
class Coverage:
    department: str
    item_code: str
    item_name: str
    planned: int  # tasks of the year's rounds that check this item
    checked: int  # of them, with a reviewed (accepted or published) result for it

    @property
    def rate(self) -> float:
        return self.checked / self.planned if self.planned else 0.0


@dataclass(frozen=True)
class Timeliness:
    on_time: int = 0
    late: int = 0
    overdue: int = 0  # not done and past the deadline
    pending: int = 0  # not done, deadline still ahead

    @property
    def rate(self) -> float:
        settled = self.on_time + self.late + self.overdue
        return self.on_time / settled if settled else 0.0


@dataclass(frozen=True)
class CapCheck:
    round_id: int
    title: str
    cap: int | None  # the lowest cap of the round's general items (per mille); None: key items only
    highest_ratio: int  # the highest per-class ratio frozen (per mille)
    drawn: int
    population: int

    @property
    def respected(self) -> bool:
        return self.cap is None or self.highest_ratio <= self.cap


@dataclass(frozen=True)
class Load:
    department: str
    inspectors: int
    tasks: int
    least: int
    most: int

    @property
    def mean(self) -> float:
        return self.tasks / self.inspectors if self.inspectors else 0.0


@dataclass(frozen=True)
class CreditMove:
    reason: str
    from_class: str
    to_class: str
    targets: int


@dataclass
class Statistics:
    year: int
    region: str | None
    coverage: list[Coverage] = field(default_factory=list)
    categories: dict[str, int] = field(default_factory=dict)  # category → reviewed results
    problem_categories: frozenset[str] = frozenset()
    completion: Timeliness = Timeliness()
    publication: dict[str, Timeliness] = field(default_factory=dict)  # department → its results
    caps: list[CapCheck] = field(default_factory=list)
    load: list[Load] = field(default_factory=list)
    credit: list[CreditMove] = field(default_factory=list)

    @property
    def results(self) -> int:
        return sum(self.categories.values())

    @property
    def problems(self) -> int:
        return sum(n for c, n in self.categories.items() if c in self.problem_categories)

    @property
    def problem_rate(self) -> float:
        return self.problems / self.results if self.results else 0.0

    def coverage_by_department(self) -> dict[str, tuple[int, int]]:
        """department → (planned, checked), over its items."""
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for row in self.coverage:
            totals[row.department][0] += row.planned
            totals[row.department][1] += row.checked
        return {d: (p, c) for d, (p, c) in totals.items()}

    @property
    def publication_total(self) -> Timeliness:
        return Timeliness(*(sum(getattr(t, f) for t in self.publication.values()) for f in ("on_time", "late", "overdue", "pending")))

    @property
    def caps_respected(self) -> int:
        return sum(c.respected for c in self.caps)


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """The year in China as UTC instants [start, end)."""
    if not 2000 <= year <= 2100:
        raise InvalidInput(f"year {year} is out of range")
    start = dt.datetime(year, 1, 1, tzinfo=DOMAIN_TZ).astimezone(dt.UTC)
    return start, dt.datetime(year + 1, 1, 1, tzinfo=DOMAIN_TZ).astimezone(dt.UTC)


async def statistics(
    uow: UnitOfWork, actor: Actor, *, year: int | None = None, region: str | None = None, policy: CreditPolicy | None = None
) -> Statistics:
    """The year's figures over the rounds this actor sees: a convener's jurisdiction, an officer's
    department's rounds."""
    return await _compute(uow, reach(actor, Action.STATS_VIEW), year, region, policy, public=False)


async def public_statistics(uow: UnitOfWork, *, year: int | None = None, region: str | None = None) -> Statistics:
    """What the public site shows: coverage, published results by category, timeliness of
    publication. Nothing about people (no inspectors' load) and nothing unpublished."""
    stats = await _compute(uow, Reach(everything=True), year, region, None, public=True)
    stats.load, stats.credit, stats.completion = [], [], Timeliness()
    return stats


async def _compute(uow: UnitOfWork, allowed: Reach, year: int | None, region: str | None, policy, public: bool) -> Statistics:
    today = local_date(uow.clock())
    year = year or today.year
    if region is not None and not is_region_code(region):
        raise InvalidInput(f"region {region!r} is not a 6-digit GB/T 2260 code")
    start, end = year_bounds(year)
    rounds = uow.stats.rounds(allowed, year, start, end, region)
    policy = policy or active_policy()
    stats = Statistics(year, region, problem_categories=frozenset(policy.raise_steps))
    stats.coverage = [Coverage(*row) for row in await uow.stats.coverage(rounds)]
    categories: Counter[str] = Counter()
    for _, category, n in await uow.stats.categories(rounds, published_only=public):
        categories[category] += n
    stats.categories = dict(sorted(categories.items()))
    if not public:
        stats.completion = _completion(await uow.stats.completion(rounds), today)
    stats.publication = _publication(await uow.stats.publication(rounds), today)
    stats.caps = [_cap_check(*row) for row in await uow.stats.caps(rounds)]
    if not public:
        stats.load = _load(await uow.stats.load(rounds, None))
        stats.credit = [CreditMove(*row) for row in await uow.stats.credit_moves(start, end, rounds)]
    return stats


def _day(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _completion(rows, today: dt.date) -> Timeliness:
    counts = Counter()
    for due, done, n in rows:
        due, done = _day(due), _day(done)
        if done is not None:
            counts["on_time" if done <= due else "late"] += n
        else:
            counts["overdue" if due < today else "pending"] += n
    return Timeliness(**counts)


@cache
def _publication_deadline(done: dt.date) -> dt.date:
    return add_working_days(done, PUBLICATION_WORKING_DAYS)


def _publication(rows, today: dt.date) -> dict[str, Timeliness]:
    counts: dict[str, Counter] = defaultdict(Counter)
    for department, done, published, n in rows:
        deadline = _publication_deadline(_day(done))
        published = _day(published)
        if published is not None:
            counts[department]["on_time" if published <= deadline else "late"] += n
        else:
            counts[department]["overdue" if today > deadline else "pending"] += n
    return {d: Timeliness(**c) for d, c in sorted(counts.items())}


def _cap_check(round_id: int, title: str, params_json: bytes, cap: int | None) -> CapCheck:
    strata = json.loads(params_json)["strata"]
    highest = max((s["permille"] for s in strata.values()), default=0)
    return CapCheck(round_id, title, cap, highest, sum(s["k"] for s in strata.values()), sum(s["n"] for s in strata.values()))


def _load(rows) -> list[Load]:
    per: dict[str, list[int]] = defaultdict(list)
    for department, _, _, n in rows:
        per[department].append(n)
    return [Load(d, len(ns), sum(ns), min(ns), max(ns)) for d, ns in sorted(per.items())]
