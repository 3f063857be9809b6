"""Every update handled once, and none lost to a crash: the received_updates table.

Long polling confirms an update to Telegram with the next getUpdates, while the update may still
be handled (aiogram handles each as a task); a kill before its commit would lose it for good.
So each update is recorded as it arrives, marked handled when its handler is done, and those a
crash left unfinished are handled again when polling starts (`replay`). An update that arrives
again after it was handled (a webhook post Telegram repeats because it missed the answer) is
skipped. A handler that failed counts as handled: handling it again would fail again.

A crash after a handler's commit and before the mark repeats that update once on replay; handlers
are made for it, as for any repeated press (core refuses a second approval, a second answer...).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import Update
from sqlalchemy.ext.asyncio import async_sessionmaker

from jointcheck.core.clock import Clock
from jointcheck.core.services import received_updates
from jointcheck.core.services.received_updates import Arrival
from jointcheck.core.uow import UnitOfWork

log = logging.getLogger("jointcheck.bot.updates")


class ReceivedUpdatesMiddleware(BaseMiddleware):
    """Outer middleware on updates, the first: records, skips repeats, marks handled."""

    def __init__(self, sessionmaker: async_sessionmaker, clock: Clock | None = None) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock

    def _uow(self, **options) -> UnitOfWork:
        return UnitOfWork(self._sessionmaker, self._clock, name="received", **options)

    async def __call__(self, handler: Callable[[Update, dict[str, Any]], Awaitable[Any]], update: Update, data: dict[str, Any]) -> Any:
        async with self._uow() as uow:
            payload = update.model_dump_json(exclude_none=True, by_alias=True)
            arrival = await received_updates.arrive(uow, update.update_id, payload)
            await uow.commit()
        if arrival is Arrival.HANDLED:
            log.info("update %s was handled already: skipped", update.update_id)
            return UNHANDLED
        if arrival is Arrival.UNFINISHED:
            log.warning("update %s: its handling was cut off before; handling it again", update.update_id)
        try:
            result = await handler(update, data)
        except Exception:
            await self._finish(update.update_id)
            raise
        await self._finish(update.update_id)
        return result

    async def _finish(self, update_id: int) -> None:
        # Shielded: a shutdown cancelling the update after its handler returned must not leave it to be replayed.
        async def finish() -> None:
            async with self._uow() as uow:
                await received_updates.finish(uow, update_id)
                await uow.commit()

        await asyncio.shield(finish())

    async def replay(self, dispatcher: Dispatcher, bot: Bot) -> int:
        """Handle again, oldest first, the updates whose handling a crash cut off; how many."""
        async with self._uow(read_only=True) as uow:
            unfinished = await received_updates.unfinished(uow)
        for update_id, payload in unfinished:
            try:
                await dispatcher.feed_update(bot, Update.model_validate_json(payload, context={"bot": bot}))
            except Exception:  # aiogram has logged it; the next one still goes
                log.warning("replayed update %s failed", update_id)
        return len(unfinished)
