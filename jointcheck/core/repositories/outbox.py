"""The notification outbox: rows written with the state change that causes them, then claimed and
settled by the sender.

A row's status: `pending` (to send), `sending` (claimed by a sender, outcome not yet recorded),
`sent`, `undeliverable`, and `resend`: it was `sending` when its sender died, so it may already
have arrived; it is sent again, marked as a possible repeat. Every change of status below is a
compare-and-set on the status the caller saw, so two senders can never both win a row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jointcheck.core.models import OutboxMessage
from jointcheck.core.public_proof import canonical_json

READY = ("pending", "resend")
UNSETTLED = (*READY, "sending")


class OutboxRepository:
    def __init__(self, session: AsyncSession):
        self._session = session

    def add(self, chat_id: int, template: str, params: dict | None = None, dedupe_key: str | None = None) -> OutboxMessage:
        """Queue a message rendered later from `template` (a template name, not text) and `params`."""
        message = OutboxMessage(
            chat_id=chat_id,
            template=template,
            params=canonical_json(params or {}).decode("utf-8"),
            dedupe_key=dedupe_key,
            status="pending",
            attempts=0,
            error="",
        )
        self._session.add(message)
        return message

    async def queued_keys(self, dedupe_keys: Sequence[str]) -> set[str]:
        """Which of these notices are queued already (rows are kept, sent or not)."""
        if not dedupe_keys:
            return set()
        query = select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(list(dedupe_keys)))
        return set((await self._session.execute(query)).scalars())

    async def heads(self, now: dt.datetime, limit: int) -> list[OutboxMessage]:
        """The oldest unsettled row of each chat, in id order, where that row may go now.

        A chat whose oldest row is in flight, or waits for a retry (`not_before`), has none: its
        later rows wait behind it, so a chat's messages never overtake each other.
        """
        first_of_chat = select(func.min(OutboxMessage.id)).where(OutboxMessage.status.in_(UNSETTLED)).group_by(OutboxMessage.chat_id)
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.id.in_(first_of_chat),
                OutboxMessage.status.in_(READY),
                or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        return list((await self._session.execute(query)).scalars())

    async def _move(self, message_id: int, was: str, **values) -> bool:
        result = await self._session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.status == was).values(**values)
        )
        return result.rowcount == 1

    async def claim(self, message_id: int, status: str) -> bool:
        """`status` (pending or resend) → sending, one more attempt; false when another sender took it first."""
        return await self._move(message_id, status, status="sending", attempts=OutboxMessage.attempts + 1)

    async def release(self, message_id: int, status: str) -> bool:
        """Sending → back to `status`, nothing having been sent: the claim is undone."""
        return await self._move(message_id, "sending", status=status, attempts=OutboxMessage.attempts - 1)

    async def mark_sent(self, message_id: int, telegram_message_id: int, now: dt.datetime) -> bool:
        return await self._move(message_id, "sending", status="sent", sent_at=now, telegram_message_id=telegram_message_id)

    async def part_sent(self, message_id: int, parts: int) -> bool:
        """A claimed row's first `parts` parts are delivered."""
        return await self._move(message_id, "sending", parts_sent=parts)

    async def mark_undeliverable(self, message_id: int, error: str) -> bool:
        return await self._move(message_id, "sending", status="undeliverable", error=error)

    async def defer(self, message_id: int, status: str, not_before: dt.datetime, error: str) -> bool:
        """Sending → back to `status`, to be tried again from `not_before`."""
        return await self._move(message_id, "sending", status=status, not_before=not_before, error=error)

    async def requeue_in_flight(self, note: str) -> list[int]:
        """Every `sending` row → `resend` with `note` as its error; their ids."""
        query = select(OutboxMessage.id).where(OutboxMessage.status == "sending").order_by(OutboxMessage.id)
        ids = list((await self._session.execute(query)).scalars())
        if ids:
            await self._session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "sending")
                .values(status="resend", error=note)
            )
        return ids
