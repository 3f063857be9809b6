"""Every update handled once, and none lost to a crash: the received_updates table.

Long polling confirms an update to Telegram with the next getUpdates, while the update may still
be handled (aiogram handles each as a task); a kill before its commit would lose it for good.
So each update is recorded as it arrives (one statement), marked handled by the first commit of
its unit of work (bot/middlewares/database.py; in the same transaction as the handler's change, so
a crash cannot separate them; a handler that commits nothing gets the mark alone at its end), and
those a crash left unfinished are handled again when polling starts (`replay`). An update that arrives
again after it was handled (a webhook post Telegram repeats because it missed the answer) is
skipped. A handler that failed counts as handled: handling it again would fail again.

What a handler sends after its commit is not repeated by a replay: what must follow a commit goes
through the outbox.
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
from jointcheck.core.services.received_updates import Arrival, HandledMark
from jointcheck.core.uow import UnitOfWork

log = logging.getLogger("jointcheck.bot.updates")

HANDLED_MARK = "jointcheck_handled_mark"  # in handler data: the HandledMark the update's unit of work writes


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
        mark = data[HANDLED_MARK] = HandledMark(update.update_id)
        try:
            result = await handler(update, data)
        except Exception:
            await self._finish(mark)
            raise
        await self._finish(mark)
        return result

    async def _finish(self, mark: HandledMark) -> None:
        """The mark in a transaction of its own, when the update's unit of work did not write it (it
        failed, or never reached the unit)."""
        if mark.done:
            return

        # Shielded: a shutdown cancelling the update after its handler returned must not leave it to be replayed.
        async def finish() -> None:
            async with self._uow() as uow:
                await received_updates.finish(uow, mark.update_id)
                await uow.commit()
                mark.done = True

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
