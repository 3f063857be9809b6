"""Annual plans."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jointcheck.core.models import Plan


class PlanRepository:
    def __init__(self, session: AsyncSession):
        self._session = session

    async def find(self, region: str, year: int, title: str) -> Plan | None:
        query = select(Plan).where(Plan.region == region, Plan.year == year, Plan.title == title)
        return (await self._session.execute(query)).scalar_one_or_none()

    async def add(self, plan: Plan) -> Plan:
        self._session.add(plan)
        await self._session.flush()
        return plan
