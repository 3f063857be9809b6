"""Officer- and convener-facing search of the two directories, paginated in the database.

What a person may see is decided here: an officer sees the targets their department supervises
and their department's inspectors; a convener sees everything inside their jurisdiction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, false, or_, true

from jointcheck.core.authz import Action, Actor, reach
from jointcheck.core.errors import InvalidInput
from jointcheck.core.models import Inspector, Target
from jointcheck.core.regions import is_region_code
from jointcheck.core.repositories.directory import in_region, list_contains
from jointcheck.core.uow import UnitOfWork

MAX_PAGE = 100


@dataclass(frozen=True)
class TargetQuery:
    code: str | None = None  # prefix
    name: str | None = None  # substring
    region: str | None = None  # this region and everything inside it
    tags: tuple[str, ...] = ()  # all of them
    risk: tuple[str, ...] = ()  # any of them
    department: str | None = None
    include_deregistered: bool = False


@dataclass(frozen=True)
class InspectorQuery:
    cert_no: str | None = None
    name: str | None = None
    department: str | None = None
    skill: str | None = None


@dataclass
class Page:
    items: list = field(default_factory=list)
    next_after: int | None = None  # pass back as `after` for the next page


async def _visible(uow: UnitOfWork, actor: Actor, department_condition, region_column) -> ColumnElement[bool]:
    """The rows this actor may see at all, as one SQL condition."""
    allowed = reach(actor, Action.DIRECTORY_VIEW)
    if allowed.everything:
        return true()
    clauses = [await department_condition(department_id) for department_id in sorted(allowed.departments)]
    clauses += [in_region(region_column, region) for region in allowed.regions]
    return or_(*clauses)


def _supervised_by(uow: UnitOfWork):
    async def condition(department_id: int) -> ColumnElement[bool]:
        department = await uow.departments.by_id(department_id)
        return list_contains(Target.departments, department.code)

    return condition


async def _employed_by(department_id: int) -> ColumnElement[bool]:
    return Inspector.department_id == department_id


def _page_size(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"a page holds 1 to {MAX_PAGE} rows")
    return limit


async def search_targets(uow: UnitOfWork, actor: Actor, query: TargetQuery, *, after: int | None = None, limit: int = 20) -> Page:
    limit = _page_size(limit)
    conditions = [await _visible(uow, actor, _supervised_by(uow), Target.region)]
    if query.code:
        typed = query.code.strip()
        # Credit codes are stored upper-cased; product or project codes exactly as imported.
        conditions.append(or_(*(Target.code.startswith(c, autoescape=True) for c in {typed, typed.upper()})))
    if query.name:
        conditions.append(Target.name.contains(query.name.strip(), autoescape=True))
    if query.region:
        if not is_region_code(query.region):
            raise InvalidInput(f"region {query.region!r} is not a 6-digit code")
        conditions.append(in_region(Target.region, query.region))
    conditions.extend(list_contains(Target.tags, tag) for tag in query.tags)
    if query.risk:
        conditions.append(Target.risk.in_([r.upper() for r in query.risk]))
    if query.department:
        conditions.append(list_contains(Target.departments, query.department))
    if not query.include_deregistered:
        conditions.append(Target.status == "active")
    rows = await uow.targets.search(conditions, after, limit + 1)
    return Page(rows[:limit], rows[limit - 1].id if len(rows) > limit else None)


async def search_inspectors(uow: UnitOfWork, actor: Actor, query: InspectorQuery, *, after: int | None = None, limit: int = 20) -> Page:
    limit = _page_size(limit)
    conditions = [await _visible(uow, actor, _employed_by, Inspector.region)]
    if query.cert_no:
        conditions.append(Inspector.cert_no.startswith(query.cert_no.strip(), autoescape=True))
    if query.name:
        conditions.append(Inspector.name.contains(query.name.strip(), autoescape=True))
    if query.department:
        department = await uow.departments.by_code(query.department)
        conditions.append(Inspector.department_id == department.id if department else false())
    if query.skill:
        conditions.append(list_contains(Inspector.skills, query.skill))
    rows = await uow.inspectors.search(conditions, after, limit + 1)
    return Page(rows[:limit], rows[limit - 1][0].id if len(rows) > limit else None)
