"""The service in one process: the bot (long polling), the outbox sender and the site.

    await Service(settings).run()      # until cancelled, or SIGINT/SIGTERM with handle_signals

Everything is built when `run` starts and torn down when it ends, so a restart is a new process
in all but name: only the database (and Redis, when configured) carries anything across.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from jointcheck.bot.app import _fsm_backend, create_bot, create_dispatcher
from jointcheck.config import Settings
from jointcheck.core.db import make_engine, make_sessionmaker
from jointcheck.scheduler.sender import OutboxSender
from jointcheck.web.app import create_app

log = logging.getLogger("jointcheck.service")


class Service:
    def __init__(self, settings: Settings, *, handle_signals: bool = True) -> None:
        self.settings = settings
        self._handle_signals = handle_signals
        self.site_port: int | None = None  # the port the site listens on, once started

    async def run(self) -> None:
        settings = self.settings
        engine = make_engine(settings.database_url)
        sessionmaker = make_sessionmaker(engine)
        bot = create_bot(settings)
        storage, isolation = _fsm_backend(settings)
        dispatcher = create_dispatcher(sessionmaker, storage=storage, events_isolation=isolation)
        runner = web.AppRunner(create_app(sessionmaker), handle_signals=False)
        sender_task = None
        try:
            await runner.setup()
            site = web.TCPSite(runner, settings.site_host, settings.site_port)
            await site.start()
            self.site_port = runner.addresses[0][1]
            me = await bot.get_me()
            log.warning("bot @%s polling %s; site on http://%s:%s", me.username,
                        settings.bot_api_url or "api.telegram.org", settings.site_host, self.site_port)
            sender_task = asyncio.create_task(OutboxSender(sessionmaker, bot).run(settings.outbox_interval))
            await bot.delete_webhook(drop_pending_updates=False)
            await dispatcher.start_polling(bot, handle_signals=self._handle_signals, close_bot_session=False)
        finally:
            if sender_task is not None:
                sender_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sender_task
            await runner.cleanup()
            await bot.session.close()
            await engine.dispose()
