"""Statistics as SQL aggregates: every query groups in the database and hands back a few rows.

Days of the domain are days in China (UTC+8 all year: no daylight saving), so a stored UTC time
becomes its Chinese date in SQL, on each backend in its own words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from jointcheck.core.authz import Reach
from jointcheck.core.models import (
    CheckItem,
    CreditChange,
    Department,
    Draw,
    Inspector,
    Plan,
    Result,
    Round,
    RoundItem,
    RoundParticipant,
    Task,
    TeamMember,
)
from jointcheck.core.repositories.directory import in_region

REVIEWED = ("accepted", "published")


class StatsRepository:
    def __init__(self, session: AsyncSession):
        self._session = session

    def _local_day(self, column) -> ColumnElement:
        if self._session.bind.dialect.name == "postgresql":
            return func.date(func.timezone("Asia/Shanghai", column))
        return func.date(column, "+8 hours")

    @staticmethod
    def rounds(reach: Reach, year: int, start: dt.datetime, end: dt.datetime, region: str | None = None) -> Select:
        """Ids of the rounds of the year that this reach sees (and inside `region`): those of the
        year's plans, and those outside any plan proposed in [start, end)."""
        clauses = []
        if reach.everything:
            clauses.append(Round.id.is_not(None))
        if reach.departments:
            clauses.append(Round.id.in_(select(RoundParticipant.round_id).where(RoundParticipant.department_id.in_(reach.departments))))
        clauses += [in_region(Round.region, r) for r in reach.regions]
        of_year = or_(
            Round.plan_id.in_(select(Plan.id).where(Plan.year == year)),
            and_(Round.plan_id.is_(None), Round.created_at >= start, Round.created_at < end),
        )
        query = select(Round.id).where(of_year, or_(*clauses) if clauses else false())
        if region:
            query = query.where(in_region(Round.region, region))
        return query

    async def _rows(self, query) -> list[tuple]:
        return [tuple(row) for row in await self._session.execute(query)]

    async def coverage(self, rounds: Select) -> list[tuple[str, str, str, int, int]]:
        """(department name, item code, item name, tasks planned, tasks with a reviewed result)."""
        reviewed = select(Result.id).where(Result.task_id == Task.id, Result.item_id == CheckItem.id, Result.status.in_(REVIEWED)).exists()
        query = (
            select(Department.name, CheckItem.code, CheckItem.name, func.count(Task.id), func.count(case((reviewed, 1))))
            .select_from(RoundItem)
            .join(CheckItem, CheckItem.id == RoundItem.item_id)
            .join(Department, Department.id == RoundItem.department_id)
            .join(Task, Task.round_id == RoundItem.round_id)
            .where(RoundItem.round_id.in_(rounds))
            .group_by(Department.name, CheckItem.code, CheckItem.name)
            .order_by(Department.name, CheckItem.code)
        )
        return await self._rows(query)

    async def categories(self, rounds: Select, published_only: bool) -> list[tuple[str, str, int]]:
        """(department name, category, results) of the reviewed (or only the published) results."""
        statuses = ("published",) if published_only else REVIEWED
        query = (
            select(Department.name, Result.category, func.count())
            .select_from(Result)
            .join(Task, Task.id == Result.task_id)
            .join(CheckItem, CheckItem.id == Result.item_id)
            .join(Department, Department.id == CheckItem.department_id)
            .where(Task.round_id.in_(rounds), Result.status.in_(statuses))
            .group_by(Department.name, Result.category)
            .order_by(Department.name, Result.category)
        )
        return await self._rows(query)

    async def completion(self, rounds: Select) -> list[tuple[dt.date | str | None, str | None, int]]:
        """(due date, Chinese day of completion or None, tasks) of the tasks that have a due date."""
        day = self._local_day(Task.completed_at)
        query = (
            select(Task.due_date, day, func.count())
            .where(Task.round_id.in_(rounds), Task.due_date.is_not(None))
            .group_by(Task.due_date, day)
        )
        return await self._rows(query)

    async def publication(self, rounds: Select) -> list[tuple[str, str, str | None, int]]:
        """(department name, Chinese day of the task's completion, day of publication or None, results)
        of the results of completed tasks."""
        done, published = self._local_day(Task.completed_at), self._local_day(Result.published_at)
        query = (
            select(Department.name, done, published, func.count())
            .select_from(Result)
            .join(Task, Task.id == Result.task_id)
            .join(CheckItem, CheckItem.id == Result.item_id)
            .join(Department, Department.id == CheckItem.department_id)
            .where(Task.round_id.in_(rounds), Task.completed_at.is_not(None), Result.status.in_(REVIEWED))
            .group_by(Department.name, done, published)
        )
        return await self._rows(query)

    async def caps(self, rounds: Select) -> list[tuple[int, str, bytes, int | None]]:
        """(round id, title, frozen params.json, lowest ratio cap of its general items) of the frozen rounds."""
        cap = (
            select(func.min(CheckItem.ratio_cap))
            .join(RoundItem, RoundItem.item_id == CheckItem.id)
            .where(RoundItem.round_id == Round.id, CheckItem.category == "general")
            .scalar_subquery()
        )
        query = select(Round.id, Round.title, Draw.params_json, cap).join(Draw, Draw.round_id == Round.id).where(Round.id.in_(rounds))
        return await self._rows(query.order_by(Round.id))

    async def load(self, rounds: Select, department_ids: Sequence[int] | None) -> list[tuple[str, str, str, int]]:
        """(department name, certificate number, name, tasks) for every active law-enforcement inspector
        of the departments taking part in these rounds (or of `department_ids`), zero-task ones too."""
        tasks = (
            select(TeamMember.inspector_id, func.count(TeamMember.task_id).label("n"))
            .join(Task, Task.id == TeamMember.task_id)
            .where(Task.round_id.in_(rounds))
            .group_by(TeamMember.inspector_id)
            .subquery()
        )
        if department_ids is None:
            departments = select(RoundParticipant.department_id).where(
                RoundParticipant.round_id.in_(rounds), RoundParticipant.status == "confirmed"
            )
        else:
            departments = list(department_ids)
        query = (
            select(Department.name, Inspector.cert_no, Inspector.name, func.coalesce(tasks.c.n, 0))
            .join(Department, Department.id == Inspector.department_id)
            .outerjoin(tasks, tasks.c.inspector_id == Inspector.id)
            .where(Inspector.department_id.in_(departments), Inspector.kind == "enforcement", Inspector.status == "active")
            .order_by(Department.name, Inspector.cert_no)
        )
        return await self._rows(query)

    async def credit_moves(self, start: dt.datetime, end: dt.datetime, rounds: Select) -> list[tuple[str, str, str, int]]:
        """(reason, from class, to class, changes) made by results of these rounds in [start, end)."""
        query = (
            select(CreditChange.reason, CreditChange.from_class, CreditChange.to_class, func.count())
            .where(and_(CreditChange.changed_at >= start, CreditChange.changed_at < end), CreditChange.round_id.in_(rounds))
            .group_by(CreditChange.reason, CreditChange.from_class, CreditChange.to_class)
            .order_by(CreditChange.reason, CreditChange.from_class, CreditChange.to_class)
        )
        return await self._rows(query)
