"""One unit of work per update, and who is acting: `uow`, `user` and `actor` in handler data.

No transaction of an update stays open while the bot waits for Telegram: `CommitBeforeTelegram`,
on the bot's session, commits the update's unit before every Bot API request. A request can take
the whole request timeout; a transaction open across it would hold SQLite's write lock (every
unit begins IMMEDIATE) or PostgreSQL's row locks (SELECT ... FOR UPDATE) all that time, and every
other writer, the console's included, would wait for Telegram. Handlers commit their changes
before they answer anyway (what must follow a commit goes through the outbox); what is left open
at a request is their reading, and the next statement begins a new transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import TelegramMethod
from aiogram.types import TelegramObject
from aiogram.types import User as TelegramUser
from sqlalchemy.ext.asyncio import async_sessionmaker

from jointcheck.bot.middlewares.updates import HANDLED_MARK
from jointcheck.core.authz import Actor
from jointcheck.core.clock import Clock
from jointcheck.core.services.users import account_of_chat
from jointcheck.core.uow import UnitOfWork

# The unit of work of the update being handled in this task (each update has its own task and context).
_update_unit: ContextVar[UnitOfWork | None] = ContextVar("jointcheck_update_unit", default=None)


def stranger(telegram_user: TelegramUser | None) -> Actor:
    """A Telegram user with no account yet (or no user at all): an actor holding no grants."""
    return Actor(label=f"tg:{telegram_user.id}" if telegram_user else "tg:unknown")


class DatabaseMiddleware(BaseMiddleware):
    """Outer middleware on updates: opens the unit of work, loads the user and their grants.

    Handlers commit what they change (`await uow.commit()`); anything uncommitted is rolled back
    when the update is done. A JointcheckError a handler lets through is rolled back by
    RefusalMiddleware before the refusal is shown.
    """

    def __init__(self, sessionmaker: async_sessionmaker, clock: Clock | None = None) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self._sessionmaker, self._clock, name="update")

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        telegram_user: TelegramUser | None = data.get("event_from_user")
        mark = data.get(HANDLED_MARK)
        async with self.unit_of_work() as uow:
            token = _update_unit.set(uow)
            if mark is not None:  # written by the handler's own commit (or before its first answer)
                uow.mark_handled_at_commit(mark)
            try:
                known = await account_of_chat(uow, telegram_user.id) if telegram_user else None
                user, actor = known or (None, stranger(telegram_user))
                data["uow"], data["user"], data["actor"] = uow, user, actor
                result = await handler(event, data)
                await uow.commit_handled_mark()
                return result
            finally:
                _update_unit.reset(token)


class CommitBeforeTelegram(BaseRequestMiddleware):
    """On the bot's session: ends the current update's transaction before each Bot API request."""

    async def __call__(self, make_request: NextRequestMiddlewareType, bot: Bot, method: TelegramMethod):
        uow = _update_unit.get()
        if uow is not None:
            await uow.release()
        return await make_request(bot, method)
