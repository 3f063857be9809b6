"""Case leads (个案) and the targets they concern."""

from __future__ import annotations

from sqlalchemy import false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from jointcheck.core.authz import Reach
from jointcheck.core.models import Case, Department, Target, Task
from jointcheck.core.repositories.directory import in_region


class CaseRepository:
    def __init__(self, session: AsyncSession):
        self._session = session

    async def get(self, case_id: int, *, for_update: bool = False) -> tuple[Case, Target, Department] | None:
        query = (
            select(Case, Target, Department)
            .join(Target, Target.code == Case.target_code)
            .join(Department, Department.id == Case.department_id)
            .where(Case.id == case_id)
        )
        if for_update:
            query = query.with_for_update(of=Case)
        row = (await self._session.execute(query)).one_or_none()
        return tuple(row) if row else None

    async def open_of(self, target_code: str, department_id: int) -> Case | None:
        query = select(Case).where(Case.target_code == target_code, Case.department_id == department_id, Case.status == "open").limit(1)
        return (await self._session.execute(query)).scalar_one_or_none()

    async def round_of(self, case: Case) -> int | None:
        if case.task_id is None:
            return None
        return (await self._session.execute(select(Task.round_id).where(Task.id == case.task_id))).scalar_one_or_none()

    async def open_with_completed_task(self, round_id: int) -> list[Case]:
        query = (
            select(Case)
            .join(Task, Task.id == Case.task_id)
            .where(Task.round_id == round_id, Task.completed_at.is_not(None), Case.status == "open")
            .with_for_update(of=Case)
        )
        return list((await self._session.execute(query)).scalars())

    async def visible(self, reach: Reach, open_only: bool, limit: int) -> list[tuple[Case, str, str, int | None]]:
        clauses = []
        if reach.everything:
            clauses.append(Case.id.is_not(None))
        if reach.departments:
            clauses.append(Case.department_id.in_(reach.departments))
        clauses += [in_region(Target.region, region) for region in reach.regions]
        query = (
            select(Case, Target.name, Department.code, Task.round_id)
            .join(Target, Target.code == Case.target_code)
            .join(Department, Department.id == Case.department_id)
            .outerjoin(Task, Task.id == Case.task_id)
            .where(or_(*clauses) if clauses else false())
        )
        if open_only:
            query = query.where(Case.status == "open")
        return [tuple(row) for row in await self._session.execute(query.order_by(Case.id.desc()).limit(limit))]
