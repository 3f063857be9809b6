"""Building the bot: `create_bot`, `create_dispatcher` and `run_polling`. Nothing is built at import time.

    bot = create_bot(settings)
    dp = create_dispatcher(sessionmaker)
    await dp.start_polling(bot)

Handler data, for every update: `uow` (an open UnitOfWork; commit what you change), `user` (the
core User or None), `actor` (core Actor; no grants for strangers), `lang`, `texts` (Texts),
`_` (gettext), `render(template, **params)`, and for callbacks `callback_answer` (aiogram's
CallbackAnswer: set `.text`/`.show_alert`; it is sent once the handler returns or fails).
"""

from __future__ import annotations

import logging

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.utils.callback_answer import CallbackAnswerMiddleware
from sqlalchemy.ext.asyncio import async_sessionmaker

from jointcheck.bot.commands import set_default_menus
from jointcheck.bot.middlewares import DatabaseMiddleware, I18nMiddleware, RefusalMiddleware
from jointcheck.bot.routers import fallback, feature_routers
from jointcheck.config import Settings
from jointcheck.core.clock import Clock
from jointcheck.core.errors import InvalidInput

log = logging.getLogger("jointcheck.bot")


def create_bot(settings: Settings) -> Bot:
    """A Bot on aiogram's HTTP session; `JOINTCHECK_BOT_API_URL` points it at another Bot API server
    (a self-hosted one, or the loopback emulator)."""
    token = settings.bot_token.get_secret_value()
    if not token:
        raise InvalidInput("no bot token: set JOINTCHECK_BOT_TOKEN")
    session = (AiohttpSession(api=TelegramAPIServer.from_base(settings.bot_api_url))
               if settings.bot_api_url else AiohttpSession())
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def create_dispatcher(
    sessionmaker: async_sessionmaker,
    *,
    clock: Clock | None = None,
    storage: BaseStorage | None = None,
    events_isolation: BaseEventIsolation | None = None,
) -> Dispatcher:
    """A Dispatcher with jointcheck's middlewares and routers.

    storage / events_isolation: FSM state and per-user locking (memory by default; Redis for
    several workers). clock: the time the units of work see (tests move it).
    """
    dp = Dispatcher(storage=storage or MemoryStorage(), events_isolation=events_isolation or SimpleEventIsolation())
    # Outer middlewares run for every update, in this order, after aiogram's own (errors, user context, FSM).
    dp.update.outer_middleware(DatabaseMiddleware(sessionmaker, clock))
    dp.update.outer_middleware(I18nMiddleware())
    # Inner middlewares of the root router apply to the handlers of every included router.
    dp.callback_query.middleware(CallbackAnswerMiddleware())
    refusals = RefusalMiddleware()
    dp.callback_query.middleware(refusals)
    dp.message.middleware(refusals)
    dp.include_routers(*feature_routers(), fallback.create_router())
    dp.startup.register(_on_startup)
    return dp


async def _on_startup(bot: Bot) -> None:
    await set_default_menus(bot)


def _fsm_backend(settings: Settings) -> tuple[BaseStorage | None, BaseEventIsolation | None]:
    if not settings.redis_url:
        return None, None
    from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

    storage = RedisStorage.from_url(settings.redis_url)
    return storage, RedisEventIsolation(storage.redis)


async def run_polling(settings: Settings, *, handle_signals: bool = True) -> None:
    """Long polling until interrupted. Only the bot: the scheduler and the public site join later."""
    from jointcheck.core.db import make_engine, make_sessionmaker

    bot = create_bot(settings)
    engine = make_engine(settings.database_url)
    storage, isolation = _fsm_backend(settings)
    dp = create_dispatcher(make_sessionmaker(engine), storage=storage, events_isolation=isolation)
    try:
        me = await bot.get_me()
        log.warning("bot @%s polling %s", me.username, settings.bot_api_url or "api.telegram.org")
        await bot.delete_webhook(drop_pending_updates=False)
        await dp.start_polling(bot, handle_signals=handle_signals, close_bot_session=False)
    finally:
        await bot.session.close()
        await engine.dispose()
