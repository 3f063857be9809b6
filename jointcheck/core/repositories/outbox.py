"""Reading and settling the notification outbox (the sender's side of core/outbox.py).

Also the read-only lookup of a department's current check items, which the bot's invitation
checklist shows (kept here, beside the outbox reader, rather than in the rounds repository).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jointcheck.core.models import OutboxMessage, User


class OutboxRepository:
    def __init__(self, session: AsyncSession):
        self._session = session

    async def pending(self, limit: int) -> list[OutboxMessage]:
        """The oldest pending rows, in id (queue) order."""
        query = select(OutboxMessage).where(OutboxMessage.status == "pending").order_by(OutboxMessage.id).limit(limit)
        return list((await self._session.execute(query)).scalars())

    async def language_of_chat(self, chat_id: int) -> str | None:
        """The stored language of the user whose Telegram id is this chat, if any."""
        query = select(User.language).where(User.telegram_id == chat_id)
        return (await self._session.execute(query)).scalar_one_or_none()

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
