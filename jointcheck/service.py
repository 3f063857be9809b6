"""The service in one process: the bot (long polling), the site, and, in the one process that
leads (scheduler/leader.py), the scheduler and the outbox sender.

    await Service(settings).run()      # until cancelled, or SIGINT/SIGTERM with handle_signals

The sender runs only on the leader too: Telegram's limits are the bot's, not a process's, so one
sender paces every notice. Everything is built when `run` starts and torn down when it ends, so a
restart is a new process in all but name: only the database (and Redis) carries anything across.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from jointcheck.bot.app import _fsm_backend, create_bot, create_dispatcher
from jointcheck.config import Settings
from jointcheck.core.db import make_engine, make_sessionmaker
from jointcheck.core.services.deadlines import DeadlinePolicy
from jointcheck.scheduler.jobs import Scheduler
from jointcheck.scheduler.leader import Leadership
from jointcheck.scheduler.sender import OutboxSender
from jointcheck.web.app import create_app

log = logging.getLogger("jointcheck.service")


class Service:
    def __init__(self, settings: Settings, *, handle_signals: bool = True) -> None:
        self.settings = settings
        self._handle_signals = handle_signals
        self.site_port: int | None = None  # the port the site listens on, once started
        self.scheduler: Scheduler | None = None  # while this process leads

    async def run(self) -> None:
        settings = self.settings
        engine = make_engine(settings.database_url)
        sessionmaker = make_sessionmaker(engine)
        bot = create_bot(settings)
        storage, isolation = _fsm_backend(settings)
        dispatcher = create_dispatcher(sessionmaker, storage=storage, events_isolation=isolation)
        runner = web.AppRunner(create_app(sessionmaker), handle_signals=False)
        leading = None
        try:
            await runner.setup()
            site = web.TCPSite(runner, settings.site_host, settings.site_port)
            await site.start()
            self.site_port = runner.addresses[0][1]
            me = await bot.get_me()
            log.warning("bot @%s polling %s; site on http://%s:%s", me.username,
                        settings.bot_api_url or "api.telegram.org", settings.site_host, self.site_port)
            leading = asyncio.create_task(self._lead(engine, sessionmaker, bot))
            await bot.delete_webhook(drop_pending_updates=False)
            await dispatcher.start_polling(bot, handle_signals=self._handle_signals, close_bot_session=False)
        finally:
            if leading is not None:
                leading.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await leading
            await runner.cleanup()
            await bot.session.close()
            await engine.dispose()

    async def _lead(self, engine, sessionmaker, bot) -> None:
        """Wait to lead; then schedule and send until leadership is lost, and wait again."""
        settings = self.settings
        policy = DeadlinePolicy(settings.reminder_days, settings.invitation_working_days, settings.publication_warning_working_days)
        leadership = Leadership(engine, retry_seconds=settings.leader_retry_seconds)
        while True:
            await leadership.acquire()
            scheduler = Scheduler(sessionmaker, policy=policy, sweep_seconds=settings.sweep_seconds)
            sender = asyncio.create_task(OutboxSender(sessionmaker, bot).run(settings.outbox_interval))
            try:
                await scheduler.start()
                self.scheduler = scheduler
                await leadership.lost()
            finally:
                self.scheduler = None
                scheduler.shutdown()
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sender
                await asyncio.shield(leadership.release())
