"""The outbox sender: delivers pending notification rows in order and records what was delivered.

    sender = OutboxSender(sessionmaker, bot)
    await sender.drain()          # once: every pending row, oldest first
    task = asyncio.create_task(sender.run(interval=1.0))  # until cancelled

Each row is rendered by bot/notices.py in the recipient's language, sent (in several messages
when it is longer than Telegram takes), then marked `sent` with the Telegram message id in its own transaction right
after the send. A recipient who blocked the bot (403), or a chat Telegram does not know (400), makes the row
`undeliverable` with the error; a row whose template cannot be rendered too. Rate limits, retries and crash safety come
with the scheduler issue (issue 6).
"""

from __future__ import annotations

import asyncio
import json
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from jinja2 import TemplateError
from sqlalchemy.ext.asyncio import async_sessionmaker

from jointcheck.bot.long_text import send_long
from jointcheck.bot.notices import render_notice
from jointcheck.core.clock import Clock
from jointcheck.core.uow import UnitOfWork

log = logging.getLogger("jointcheck.scheduler")


class OutboxSender:
    def __init__(self, sessionmaker: async_sessionmaker, bot: Bot, *, clock: Clock | None = None) -> None:
        self._sessionmaker = sessionmaker
        self._bot = bot
        self._clock = clock

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._sessionmaker, self._clock)

    async def drain(self, limit: int = 100) -> int:
        """Send up to `limit` pending rows, oldest first; returns how many were delivered."""
        async with self._uow() as uow:
            rows = [(row.id, row.chat_id, row.template, row.params) for row in await uow.outbox.pending(limit)]
        delivered = 0
        for row_id, chat_id, template, params in rows:
            try:
                async with self._uow() as uow:
                    rendered = await render_notice(uow, chat_id, template, json.loads(params or "{}"))
            except (TemplateError, ValueError, KeyError) as error:
                log.error("outbox %s (%s to %s) cannot be rendered: %s", row_id, template, chat_id, error)
                await self._settle(row_id, error=f"render: {type(error).__name__}: {error}")
                continue
            try:
                sent = (await send_long(self._bot, chat_id, rendered.text, rendered.reply_markup))[-1]
            except (TelegramForbiddenError, TelegramBadRequest) as error:  # blocked, or no such chat: sending again cannot help
                log.warning("outbox %s undeliverable to %s: %s", row_id, chat_id, error.message)
                await self._settle(row_id, error=error.message)
                continue
            await self._settle(row_id, telegram_message_id=sent.message_id)
            delivered += 1
        return delivered

    async def run(self, interval: float = 1.0) -> None:
        """Drain, then wait `interval` seconds when nothing was pending, until cancelled."""
        while True:
            try:
                if await self.drain():
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:  # keep the loop alive; issue 6 adds retries with backoff
                log.exception("outbox drain failed")
            await asyncio.sleep(interval)

    # ---- one row ---------------------------------------------------------------------------

    async def _settle(self, row_id: int, *, telegram_message_id: int | None = None, error: str | None = None) -> None:
        async with self._uow() as uow:
            repository = uow.outbox
            if error is None:
                await repository.mark_sent(row_id, telegram_message_id, uow.clock())
            else:
                await repository.mark_undeliverable(row_id, error)
            await uow.commit()


__all__ = ["OutboxSender"]
