"""Departments by code."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jointcheck.core.models import Department, DepartmentAlias


class DepartmentRepository:
    def __init__(self, session: AsyncSession):
        self._session = session

    async def by_code(self, code: str) -> Department | None:
        return (await self._session.execute(select(Department).where(Department.code == code))).scalar_one_or_none()

    async def by_id(self, department_id: int) -> Department | None:
        return await self._session.get(Department, department_id)

    async def all(self) -> list[Department]:
        return list((await self._session.execute(select(Department).order_by(Department.code))).scalars())

    async def add(self, code: str, name: str) -> Department:
        department = Department(code=code, name=name)
        self._session.add(department)
        await self._session.flush()
        return department

    async def aliases(self) -> list[tuple[str, str]]:
        """(alias, department code) of every alias."""
        query = select(DepartmentAlias.alias, Department.code).join(Department, Department.id == DepartmentAlias.department_id)
        return [(alias, code) for alias, code in await self._session.execute(query)]

    async def alias_owner(self, alias: str) -> str | None:
        query = (
            select(Department.code)
            .join(DepartmentAlias, Department.id == DepartmentAlias.department_id)
            .where(DepartmentAlias.alias == alias)
        )
        return (await self._session.execute(query)).scalar_one_or_none()

    async def add_alias(self, department: Department, alias: str) -> None:
        self._session.add(DepartmentAlias(department_id=department.id, alias=alias))
        await self._session.flush()
