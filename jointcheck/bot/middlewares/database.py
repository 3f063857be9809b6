"""One unit of work per update, and who is acting: `uow`, `user` and `actor` in handler data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from aiogram.types import User as TelegramUser
from sqlalchemy.ext.asyncio import async_sessionmaker

from jointcheck.core.authz import Actor
from jointcheck.core.clock import Clock
from jointcheck.core.services.users import account_of_chat
from jointcheck.core.uow import UnitOfWork


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
        return UnitOfWork(self._sessionmaker, self._clock)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        telegram_user: TelegramUser | None = data.get("event_from_user")
        async with self.unit_of_work() as uow:
            known = await account_of_chat(uow, telegram_user.id) if telegram_user else None
            user, actor = known or (None, stranger(telegram_user))
            data["uow"], data["user"], data["actor"] = uow, user, actor
            return await handler(event, data)
