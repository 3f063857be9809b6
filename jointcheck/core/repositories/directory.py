"""Lookups in the inspector directory."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jointcheck.core.models import Inspector


class InspectorRepository:
    def __init__(self, session: AsyncSession):
        self._session = session

    async def by_cert_no(self, cert_no: str) -> Inspector | None:
        return (await self._session.execute(select(Inspector).where(Inspector.cert_no == cert_no))).scalar_one_or_none()

    async def by_id(self, inspector_id: int) -> Inspector | None:
        return await self._session.get(Inspector, inspector_id)
