"""The State Council's holiday notices as imported: a few dozen rows a year, read whole."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import delete, extract, select
from sqlalchemy.ext.asyncio import AsyncSession

from jointcheck.core.models import OfficialDay
from jointcheck.core.workdays import Calendar


class OfficialDayRepository:
    def __init__(self, session: AsyncSession):
        self._session = session

    async def calendar(self) -> Calendar:
        rows = await self._session.execute(select(OfficialDay.day, OfficialDay.kind))
        return Calendar.of((day, kind) for day, kind in rows)

    async def replace_years(self, years: Iterable[int], rows: Iterable[tuple[dt.date, str, str]]) -> None:
        """The notices of these years become exactly `rows`: a corrected notice replaces the first."""
        years = sorted(set(years))
        if years:
            await self._session.execute(delete(OfficialDay).where(extract("year", OfficialDay.day).in_(years)))
        self._session.add_all(OfficialDay(day=day, kind=kind, name=name) for day, kind, name in rows)
        await self._session.flush()
