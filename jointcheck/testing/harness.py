"""The real bot, long polling against a Bot API URL in the current event loop (tests and the demo).

    async with BotAPIEmulator() as emulator:
        async with PollingBot(sessionmaker, emulator.token, emulator.base_url) as running:
            ...
        # or: running = await PollingBot(...).start(); ...; await running.stop()

Each start builds a new Bot and Dispatcher, as a process restart would: only what the database
(or Redis, with `redis_url`) holds survives a `stop()` and `start()`. Conversation state goes to the
database of `sessionmaker` unless `redis_url` (or an explicit `storage`) says otherwise.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiogram import Bot, Dispatcher
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import async_sessionmaker

from jointcheck.bot.app import _fsm_backend, create_bot, create_dispatcher, replay_unfinished
from jointcheck.config import Settings
from jointcheck.core.clock import Clock


class PollingBot:
    def __init__(
        self,
        sessionmaker: async_sessionmaker,
        token: str,
        api_url: str,
        *,
        clock: Clock | None = None,
        polling_timeout: int = 2,
        configure: Callable[[Dispatcher], None] | None = None,
        redis_url: str | None = None,
        **dispatcher_options,
    ) -> None:
        self.settings = Settings(bot_token=SecretStr(token), bot_api_url=api_url, redis_url=redis_url)
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._polling_timeout = polling_timeout
        self._options = dispatcher_options
        self._configure = configure  # e.g. a test adds handlers to the root router
        self.bot: Bot | None = None
        self.dispatcher: Dispatcher | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> PollingBot:
        if self._task is not None:
            raise RuntimeError("already polling")
        self.bot = create_bot(self.settings)
        options = self._options
        if "storage" not in options:  # a new Redis connection each start (the dispatcher closes its storage at stop)
            storage, isolation = _fsm_backend(self.settings)
            options = {"storage": storage, "events_isolation": isolation, **options}
        self.dispatcher = create_dispatcher(self._sessionmaker, clock=self._clock, **options)
        if self._configure is not None:
            self._configure(self.dispatcher)
        await replay_unfinished(self.dispatcher, self.bot)
        started = asyncio.Event()
        self.dispatcher.startup.register(started.set)  # after jointcheck's own startup hook
        self._task = asyncio.create_task(
            self.dispatcher.start_polling(self.bot, handle_signals=False, close_bot_session=False, polling_timeout=self._polling_timeout)
        )
        done, _ = await asyncio.wait({self._task, asyncio.create_task(started.wait())}, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:  # polling failed to start: surface its error
            self._task.result()
        return self

    async def stop(self) -> None:
        if self._task is None:
            return
        try:
            if not self._task.done():
                await self.dispatcher.stop_polling()
            await self._task
        finally:
            self._task = None
            await self.bot.session.close()

    async def restart(self) -> PollingBot:
        await self.stop()
        return await self.start()

    async def __aenter__(self) -> PollingBot:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
