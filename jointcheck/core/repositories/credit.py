"""The credit loop's reads and writes: who was just published, their published history, their changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jointcheck.core.models import CheckItem, CreditChange, Result, Round, Target, Task


class CreditRepository:
    def __init__(self, session: AsyncSession):
        self._session = session

    @staticmethod
    def published_now(round_id: int, department_id: int, at: dt.datetime) -> Select:
        """Ids of the targets whose results of this department in this round were published at
        `at`: the subquery every read below is limited by, so each is one statement however
        many targets a publication concerns."""
        return (
            select(Task.target_id)
            .join(Result, Result.task_id == Task.id)
            .join(CheckItem, CheckItem.id == Result.item_id)
            .where(Task.round_id == round_id, CheckItem.department_id == department_id, Result.published_at == at)
        )

    async def targets(self, targets: Select) -> dict[int, tuple[str, str]]:
        """{id: (code, risk class)}, in id order."""
        query = select(Target.id, Target.code, Target.risk).where(Target.id.in_(targets)).order_by(Target.id)
        return {target_id: (code, risk) for target_id, code, risk in await self._session.execute(query)}

    async def last_changes(self, targets: Select) -> dict[int, CreditChange]:
        """Each target's latest change of class, for those that ever changed."""
        latest = select(func.max(CreditChange.id)).where(CreditChange.target_id.in_(targets)).group_by(CreditChange.target_id)
        return {c.target_id: c for c in (await self._session.execute(select(CreditChange).where(CreditChange.id.in_(latest)))).scalars()}

    async def published_results(self, targets: Select) -> list[tuple[int, int, str, dt.datetime]]:
        """(target id, task id, category, published at) of every published result of these targets."""
        query = (
            select(Task.target_id, Task.id, Result.category, Result.published_at)
            .join(Result, Result.task_id == Task.id)
            .where(Task.target_id.in_(targets), Result.published_at.is_not(None))
        )
        return [tuple(row) for row in await self._session.execute(query)]

    async def set_classes(self, classes: Sequence[tuple[int, str]]) -> None:
        """(target id, new class) for many targets: one bulk UPDATE by primary key."""
        if classes:
            await self._session.execute(update(Target), [{"id": target_id, "risk": risk} for target_id, risk in classes])

    async def add_changes(self, changes: Sequence[dict]) -> None:
        """History rows (CreditChange columns as dicts) in one bulk INSERT: nothing needs their ids."""
        if changes:
            await self._session.execute(insert(CreditChange), list(changes))

    async def history(self, target_id: int, limit: int) -> list[tuple[CreditChange, str | None]]:
        """The target's changes of class, newest first, with the title of the round that caused each."""
        query = (
            select(CreditChange, Round.title)
            .outerjoin(Round, Round.id == CreditChange.round_id)
            .where(CreditChange.target_id == target_id)
            .order_by(CreditChange.id.desc())
            .limit(limit)
        )
        return [(c, t) for c, t in await self._session.execute(query)]

    async def inspections(self, target_id: int, limit: int) -> list[tuple[int, int, str, str, dt.datetime | None]]:
        """(round id, task id, item code, category, published at) of the target's published results, newest first."""
        query = (
            select(Task.round_id, Task.id, CheckItem.code, Result.category, Result.published_at)
            .join(Result, Result.task_id == Task.id)
            .join(CheckItem, CheckItem.id == Result.item_id)
            .where(Task.target_id == target_id, Result.published_at.is_not(None))
            .order_by(Result.published_at.desc(), Task.id.desc(), CheckItem.code)
            .limit(limit)
        )
        return [tuple(row) for row in await self._session.execute(query)]
