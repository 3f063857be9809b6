"""The outbox sender: delivers pending notification rows in order and records what was delivered.

    sender = OutboxSender(sessionmaker, bot)
    await sender.drain()          # once: every pending row, oldest first
    task = asyncio.create_task(sender.run(interval=1.0))  # until cancelled

Each row is rendered from `templates/bot/outbox/<template>.html` in the recipient's language (the
user whose Telegram id is the row's chat id; zh_CN when unknown) with the row's params and what
the template shows looked up read-only (a round's title and lead department, a department's
name). It is sent, then marked `sent` with the Telegram message id in its own transaction right
after the send. A recipient who blocked the bot (403) makes the row `undeliverable` with the
error; a row whose template cannot be rendered too. Rate limits, retries and crash safety come
with the scheduler issue (issue 6).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import InlineKeyboardMarkup
from jinja2 import TemplateError
from sqlalchemy.ext.asyncio import async_sessionmaker

from jointcheck.bot.routers.invitations import invitation_keyboard
from jointcheck.bot.texts import Texts
from jointcheck.core.clock import Clock
from jointcheck.core.models import Department, Role
from jointcheck.core.uow import UnitOfWork
from jointcheck.i18n import DEFAULT_LANGUAGE, LANGUAGES

log = logging.getLogger("jointcheck.scheduler")


@dataclass(frozen=True)
class Rendered:
    text: str
    reply_markup: InlineKeyboardMarkup | None = None


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
                rendered = await self._render(chat_id, template, json.loads(params or "{}"))
            except (TemplateError, ValueError, KeyError) as error:
                log.error("outbox %s (%s to %s) cannot be rendered: %s", row_id, template, chat_id, error)
                await self._settle(row_id, error=f"render: {type(error).__name__}: {error}")
                continue
            try:
                sent = await self._bot.send_message(chat_id, rendered.text, parse_mode=ParseMode.HTML,
                                                    reply_markup=rendered.reply_markup)
            except TelegramForbiddenError as error:
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

    async def _render(self, chat_id: int, template: str, params: dict[str, Any]) -> Rendered:
        async with self._uow() as uow:
            language = await uow.users.language_of_chat(chat_id)
            texts = Texts(language if language in LANGUAGES else DEFAULT_LANGUAGE)
            context = dict(params)
            round_ = None
            if "round_id" in params:
                round_ = await uow.rounds.get(int(params["round_id"]))
                lead = await uow.departments.by_id(round_.lead_department_id) if round_ else None
                context["title"] = round_.title if round_ else ""
                context["lead"] = lead.name if lead else ""
            if "department" in params:
                department = await uow.departments.by_code(str(params["department"]))
                context["department_name"] = department.name if department else str(params["department"])
            markup = None
            if template == "round_invitation" and round_ is not None and round_.status == "proposed":
                markup = invitation_keyboard(texts, round_.id, await self._open_departments(uow, chat_id, round_.id))
            text = texts.render(f"outbox/{template}.html", **context)
        return Rendered(text, markup)

    @staticmethod
    async def _open_departments(uow: UnitOfWork, chat_id: int, round_id: int) -> list[Department]:
        """The recipient's departments (as officer) still invited to the round, without an answer."""
        user = await uow.users.by_telegram_id(chat_id)
        if user is None:
            return []
        mine = {g.department_id for g in await uow.users.grants_of(user.id) if g.role == Role.OFFICER.value}
        return [d for p, d in await uow.rounds.participants(round_id)
                if d.id in mine and not p.is_lead and p.status == "invited"]


__all__ = ["OutboxSender"]
