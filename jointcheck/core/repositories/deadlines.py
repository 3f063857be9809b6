"""What the scheduler looks for: draws due, tasks due soon or overdue, invitations unanswered,
results accepted but not yet public. Each query aggregates in the database: a round of 100,000
tasks gives a handful of rows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jointcheck.core.models import CheckItem, Result, Round, RoundParticipant, Task, TeamMember


class DeadlineRepository:
    def __init__(self, session: AsyncSession):
        self._session = session

    async def scheduled_draws(self) -> list[tuple[int, dt.datetime, str]]:
        """(round id, draw time, status) of every round whose draw is still to come and has a time."""
        query = (
            select(Round.id, Round.draw_at, Round.status)
            .where(Round.status.in_(("proposed", "approved", "seeded")), Round.draw_at.is_not(None))
            .order_by(Round.draw_at, Round.id)
        )
        return [(i, at, s) for i, at, s in await self._session.execute(query)]

    async def due_draws(self, now: dt.datetime) -> list[int]:
        query = (
            select(Round.id)
            .where(Round.status == "seeded", Round.draw_at.is_not(None), Round.draw_at <= now)
            .order_by(Round.draw_at, Round.id)
        )
        return list((await self._session.execute(query)).scalars())

    async def open_tasks_by_inspector(self, first: dt.date, last: dt.date) -> list[tuple[int, int, dt.date, int]]:
        """(round id, inspector id, due date, open tasks) for tasks due from `first` to `last`."""
        query = (
            select(Task.round_id, TeamMember.inspector_id, Task.due_date, func.count())
            .join(TeamMember, TeamMember.task_id == Task.id)
            .where(Task.completed_at.is_(None), Task.due_date >= first, Task.due_date <= last)
            .group_by(Task.round_id, TeamMember.inspector_id, Task.due_date)
            .order_by(Task.round_id, TeamMember.inspector_id)
        )
        return [(r, i, d, n) for r, i, d, n in await self._session.execute(query)]

    async def overdue_tasks(self, today: dt.date) -> list[tuple[int, dt.date, int]]:
        """(round id, due date, open tasks) for tasks past their due date."""
        query = (
            select(Task.round_id, Task.due_date, func.count())
            .where(Task.completed_at.is_(None), Task.due_date < today)
            .group_by(Task.round_id, Task.due_date)
            .order_by(Task.round_id)
        )
        return [(r, d, n) for r, d, n in await self._session.execute(query)]

    async def unanswered_invitations(self) -> list[tuple[int, int, int, dt.datetime]]:
        """(round id, lead department id, invited department id, round created at) of invitations of
        proposed rounds with no answer yet."""
        query = (
            select(Round.id, Round.lead_department_id, RoundParticipant.department_id, Round.created_at)
            .join(RoundParticipant, RoundParticipant.round_id == Round.id)
            .where(Round.status == "proposed", RoundParticipant.status == "invited")
            .order_by(Round.id, RoundParticipant.department_id)
        )
        return [(r, lead, d, at) for r, lead, d, at in await self._session.execute(query)]

    async def unpublished_results(self) -> list[tuple[int, int, dt.datetime, int]]:
        """(round id, department id, earliest completion, results) of accepted results not yet public,
        for completed tasks: the 20 working days run from the completion."""
        query = (
            select(Task.round_id, CheckItem.department_id, func.min(Task.completed_at), func.count())
            .select_from(Result)
            .join(Task, Task.id == Result.task_id)
            .join(CheckItem, CheckItem.id == Result.item_id)
            .where(Result.status == "accepted", Task.completed_at.is_not(None))
            .group_by(Task.round_id, CheckItem.department_id)
            .order_by(Task.round_id, CheckItem.department_id)
        )
        return [(r, d, at, n) for r, d, at, n in await self._session.execute(query)]
