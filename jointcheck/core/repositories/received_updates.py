"""Updates from the chat platform as they arrived, until handled: what lets a crash lose none and a
repeated delivery do nothing twice. The payload is kept as received (text), opaque to core."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from jointcheck.core.models import ReceivedUpdate


class Arrival(enum.Enum):
    NEW = "new"  # first time seen: handle it
    UNFINISHED = "unfinished"  # seen before, its handling never finished (a crash): handle it
    HANDLED = "handled"  # delivered again after it was handled: skip it


class ReceivedUpdateRepository:
    def __init__(self, session: AsyncSession):
        self._session = session

    async def arrive(self, update_id: int, payload: str, now: dt.datetime) -> Arrival:
        # One statement for a new update (nearly all of them); a repeat reads what became of it.
        insert = pg_insert if self._session.bind.dialect.name == "postgresql" else sqlite_insert
        added = await self._session.execute(
            insert(ReceivedUpdate)
            .values(update_id=update_id, payload=payload, received_at=now)
            .on_conflict_do_nothing(index_elements=[ReceivedUpdate.update_id])
        )
        if added.rowcount == 1:
            return Arrival.NEW
        handled = (await self._session.execute(select(ReceivedUpdate.handled_at).where(ReceivedUpdate.update_id == update_id))).one()
        return Arrival.UNFINISHED if handled.handled_at is None else Arrival.HANDLED

    async def finish(self, update_id: int, now: dt.datetime) -> None:
        await self._session.execute(update(ReceivedUpdate).where(ReceivedUpdate.update_id == update_id).values(handled_at=now))

    async def unfinished(self, limit: int = 1000) -> list[tuple[int, str]]:
        """(update id, payload) of updates whose handling never finished, oldest first."""
        query = (
            select(ReceivedUpdate.update_id, ReceivedUpdate.payload)
            .where(ReceivedUpdate.handled_at.is_(None))
            .order_by(ReceivedUpdate.update_id)
            .limit(limit)
        )
        return [(row.update_id, row.payload) for row in await self._session.execute(query)]

    async def prune(self, received_before: dt.datetime) -> int:
        """Forget updates received before then (Telegram delivers none again after 24 hours)."""
        result = await self._session.execute(delete(ReceivedUpdate).where(ReceivedUpdate.received_at < received_before))
        return result.rowcount
