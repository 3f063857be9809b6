"""The notification outbox: rows written with the state change that causes them, then read and
settled by the sender."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jointcheck.core.models import OutboxMessage
from jointcheck.core.public_proof import canonical_json


class OutboxRepository:
    def __init__(self, session: AsyncSession):
        self._session = session

    def add(self, chat_id: int, template: str, params: dict | None = None, dedupe_key: str | None = None) -> OutboxMessage:
        """Queue a message rendered later from `template` (a template name, not text) and `params`."""
        message = OutboxMessage(
            chat_id=chat_id, template=template, params=canonical_json(params or {}).decode("utf-8"),
            dedupe_key=dedupe_key, status="pending", attempts=0, error="",
        )
        self._session.add(message)
        return message

    async def pending(self, limit: int) -> list[OutboxMessage]:
        """The oldest pending rows, in id (queue) order."""
        query = select(OutboxMessage).where(OutboxMessage.status == "pending").order_by(OutboxMessage.id).limit(limit)
        return list((await self._session.execute(query)).scalars())

    async def mark_sent(self, message_id: int, telegram_message_id: int, now: dt.datetime) -> bool:
        """Pending → sent; false when the row was not pending any more."""
        result = await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == "pending")
            .values(status="sent", sent_at=now, telegram_message_id=telegram_message_id,
                    attempts=OutboxMessage.attempts + 1)
        )
        return result.rowcount == 1

    async def mark_undeliverable(self, message_id: int, error: str) -> bool:
        result = await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == "pending")
            .values(status="undeliverable", error=error, attempts=OutboxMessage.attempts + 1)
        )
        return result.rowcount == 1
