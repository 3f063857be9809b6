"""Building the bot: `create_bot` and `create_dispatcher` (jointcheck/service.py runs them). Nothing is built at import time.

    bot = create_bot(settings)
    dp = create_dispatcher(sessionmaker)
    await dp.start_polling(bot)

Handler data, for every update: `uow` (an open UnitOfWork; commit what you change), `user` (the
core User or None), `actor` (core Actor; no grants for strangers), `lang`, `texts` (Texts),
`_` (gettext), `render(template, **params)`, and for callbacks `callback_answer` (aiogram's
CallbackAnswer: set `.text`/`.show_alert`; it is sent once the handler returns or fails).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.methods.base import Response, TelegramMethod, TelegramType
from aiogram.utils.callback_answer import CallbackAnswerMiddleware
from sqlalchemy.ext.asyncio import async_sessionmaker

from jointcheck.bot.commands import set_default_menus
from jointcheck.bot.fsm_storage import DatabaseStorage, HeldRecordMiddleware
from jointcheck.bot.middlewares import DatabaseMiddleware, I18nMiddleware, RefusalMiddleware
from jointcheck.bot.middlewares.database import CommitBeforeTelegram
from jointcheck.bot.middlewares.updates import ReceivedUpdatesMiddleware
from jointcheck.bot.routers import fallback, feature_routers
from jointcheck.config import Settings
from jointcheck.core.clock import Clock
from jointcheck.core.errors import InvalidInput

log = logging.getLogger("jointcheck.bot")
_RECEIVED = "jointcheck_received_updates"  # the dispatcher's ReceivedUpdatesMiddleware, in its workflow data


def create_bot(settings: Settings) -> Bot:
    """A Bot on aiogram's HTTP session; `JOINTCHECK_BOT_API_URL` points it at another Bot API server
    (a self-hosted one, or the loopback emulator)."""
    token = settings.bot_token.get_secret_value()
    if not token:
        raise InvalidInput("no bot token: set JOINTCHECK_BOT_TOKEN")
    session = (
        HeldResponsesSession(api=TelegramAPIServer.from_base(settings.bot_api_url)) if settings.bot_api_url else HeldResponsesSession()
    )
    session.middleware(CommitBeforeTelegram())
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


class HeldResponsesSession(AiohttpSession):
    """aiogram's session, keeping every `Response[T]` it parses answers with.

    aiogram builds the pydantic model `Response[T]` for each answer, and pydantic keeps such
    parametrized models only weakly: a model class sits in reference cycles, so every full garbage
    collection dropped it and the next call rebuilt it, about 10 ms of CPU (7% of a webhook
    worker's samples under bench/load.py). Held here, each is built once per process.
    """

    _held: ClassVar[dict[Any, type]] = {}

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None) -> TelegramType:
        returning = method.__returning__
        if returning not in self._held:
            self._held[returning] = Response[returning]
        return await super().make_request(bot, method, timeout)


def create_dispatcher(
    sessionmaker: async_sessionmaker,
    *,
    clock: Clock | None = None,
    storage: BaseStorage | None = None,
    events_isolation: BaseEventIsolation | None = None,
    shutdown_grace: float | None = None,
) -> Dispatcher:
    """A Dispatcher with jointcheck's middlewares and routers.

    storage / events_isolation: FSM state and per-chat locking (by default the database's
    fsm_states table and an in-process lock; Redis for several workers). clock: the time the units
    of work see (tests move it). shutdown_grace: seconds the updates in flight get to finish when
    the dispatcher shuts down before they are cancelled (None: as long as they take).
    """
    storage = storage or DatabaseStorage(sessionmaker, clock)
    dp = Dispatcher(storage=storage, events_isolation=events_isolation or SimpleEventIsolation())
    # Outer middlewares run for every update, in this order, after aiogram's own (errors, user context, FSM).
    received = ReceivedUpdatesMiddleware(sessionmaker, clock)
    dp.update.outer_middleware(received)  # first: a repeated update goes no further
    dp[_RECEIVED] = received
    if isinstance(storage, DatabaseStorage):
        dp.update.outer_middleware(HeldRecordMiddleware(storage))  # outside the update's unit of work
    dp.update.outer_middleware(DatabaseMiddleware(sessionmaker, clock))
    dp.update.outer_middleware(I18nMiddleware())
    # Inner middlewares of the root router apply to the handlers of every included router.
    dp.callback_query.middleware(CallbackAnswerMiddleware())
    refusals = RefusalMiddleware()
    dp.callback_query.middleware(refusals)
    dp.message.middleware(refusals)
    dp.include_routers(*feature_routers(), fallback.create_router())
    dp.startup.register(_on_startup)
    # aiogram's first shutdown step closes the FSM storage, while updates handled as tasks may still
    # be running: their state writes would fail and their chat's lock stay in Redis until it timed
    # out, holding up the chat's next update. So they finish first, within the grace.
    in_flight = UpdatesInFlight(shutdown_grace)
    dp[UpdatesInFlight.KEY] = in_flight
    dp.shutdown.register(in_flight.finish)
    dp.shutdown.handlers.insert(0, dp.shutdown.handlers.pop())
    return dp


async def replay_unfinished(dispatcher: Dispatcher, bot: Bot) -> int:
    """Before polling starts: handle the updates a crash cut off (polling had confirmed them to
    Telegram already). Not for webhook workers: Telegram posts an unanswered update again itself,
    and another worker may be handling it right now."""
    return await dispatcher[_RECEIVED].replay(dispatcher, bot)


async def _on_startup(bot: Bot) -> None:
    await set_default_menus(bot)


class UpdatesInFlight:
    """The updates a dispatcher is handling, and their end at shutdown: each gets `grace` seconds
    to finish, then is cancelled, which rolls its unit of work back. A polled update is one of
    aiogram's own tasks; a webhook's is the task of its POST (`track`), and cancelling that one
    leaves the POST unanswered, so Telegram posts the update again."""

    KEY = "updates_in_flight"  # in the dispatcher's workflow data

    def __init__(self, grace: float | None) -> None:
        self.grace = grace
        self._posted: set[asyncio.Task] = set()

    @contextlib.asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        task = asyncio.current_task()
        self._posted.add(task)
        try:
            yield
        finally:
            self._posted.discard(task)

    async def finish(self, dispatcher: Dispatcher) -> None:
        # aiogram 3 keeps the polling's update tasks in this set, removing the done ones.
        tasks = {*getattr(dispatcher, "_handle_update_tasks", ()), *self._posted}
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=self.grace)
        if late:
            log.warning("%d update(s) still being handled after %ss: cut off, rolled back", len(late), self.grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)


def _fsm_backend(settings: Settings) -> tuple[BaseStorage | None, BaseEventIsolation | None]:
    """Redis when JOINTCHECK_REDIS_URL is set; otherwise (None, None): create_dispatcher's database default."""
    if not settings.redis_url:
        return None, None
    from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

    storage = RedisStorage.from_url(settings.redis_url)
    return storage, RedisEventIsolation(storage.redis)
