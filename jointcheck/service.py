"""The service in one process: the bot (long polling, or a webhook on the site), the site, and, in
the one process that leads (scheduler/leader.py), the scheduler and the outbox sender.

    await Service(settings).run()      # until cancelled, or SIGINT/SIGTERM with handle_signals

With `webhook=True` any number of such processes serve one bot: Telegram posts each update to one
of them (SO_REUSEPORT or a proxy spreads the connections), conversation state and per-chat locking
live in Redis, and PostgreSQL elects the one that schedules and sends.

The sender runs only on the leader too: Telegram's limits are the bot's, not a process's, so one
sender paces every notice. Everything is built when `run` starts and torn down when it ends, so a
restart is a new process in all but name: only the database (and Redis) carries anything across.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiogram import Bot, Dispatcher
from aiohttp import web
from sqlalchemy.engine import make_url

from jointcheck.bot.app import _fsm_backend, create_bot, create_dispatcher, replay_unfinished
from jointcheck.config import Settings, masked_url
from jointcheck.core.db import make_engine, make_sessionmaker
from jointcheck.core.errors import InvalidInput
from jointcheck.core.services.deadlines import DeadlinePolicy
from jointcheck.scheduler.jobs import Scheduler
from jointcheck.scheduler.leader import Leadership
from jointcheck.scheduler.sender import OutboxSender
from jointcheck.web.app import create_app
from jointcheck.web.webhook import mount_webhook, webhook_secret

log = logging.getLogger("jointcheck.service")


class Service:
    def __init__(self, settings: Settings, *, handle_signals: bool = True, webhook: bool = False) -> None:
        self.settings = settings
        self._handle_signals = handle_signals
        self.webhook = webhook
        self.site_port: int | None = None  # the port the site listens on, once started
        self.scheduler: Scheduler | None = None  # while this process leads
        self._stopping: asyncio.Event | None = None
        self._dispatcher: Dispatcher | None = None

    async def run(self) -> None:
        settings = self.settings
        _refuse_unsafe_workers(settings, self.webhook)
        secret = webhook_secret(settings) if self.webhook else None
        engine = make_engine(settings.database_url)
        sessionmaker = make_sessionmaker(engine)
        bot = create_bot(settings)
        storage, isolation = _fsm_backend(settings)
        dispatcher = create_dispatcher(
            sessionmaker, storage=storage, events_isolation=isolation, shutdown_grace=settings.shutdown_grace_seconds
        )
        self._stopping, self._dispatcher = asyncio.Event(), dispatcher
        app = create_app(sessionmaker)
        if self.webhook:
            mount_webhook(app, dispatcher, bot, settings.webhook_path, secret)
        runner = web.AppRunner(app, handle_signals=False)
        leading = None
        try:
            await runner.setup()
            site = web.TCPSite(runner, settings.site_host, settings.site_port, reuse_port=settings.site_reuse_port)
            await site.start()
            self.site_port = runner.addresses[0][1]
            me = await bot.get_me()
            log.warning(
                "bot @%s on %s, %s; site on http://%s:%s",
                me.username,
                masked_url(settings.bot_api_url) if settings.bot_api_url else "api.telegram.org",
                f"webhook {settings.webhook_url}" if self.webhook else "polling",
                settings.site_host,
                self.site_port,
            )
            leading = asyncio.create_task(self._lead(engine, sessionmaker, bot))
            if self.webhook:
                await self._serve_webhook(bot, dispatcher, secret)
            else:
                await bot.delete_webhook(drop_pending_updates=False)
                await replay_unfinished(dispatcher, bot)
                await dispatcher.start_polling(bot, handle_signals=self._handle_signals, close_bot_session=False)
        finally:
            try:
                # The site first: it stops taking updates and gives those in flight the grace
                # (their dispatcher's shutdown). Stopping the leader first would wait for a job of
                # its scheduler that may wait, on SQLite, for the write lock of such an update.
                await runner.cleanup()
            finally:  # whatever the site's shutdown raised, the leader stops and the bot and the pool close
                try:
                    if leading is not None:
                        leading.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await leading
                finally:
                    await bot.session.close()
                    await engine.dispose()

    async def stop(self) -> None:
        """What SIGTERM does: take no more updates, give those in flight the grace to finish, and let
        `run` return."""
        if self.webhook:
            self._stopping.set()
        else:
            await self._dispatcher.stop_polling()

    async def _serve_webhook(self, bot: Bot, dispatcher: Dispatcher, secret: str) -> None:
        """Point Telegram at the webhook; the site serves it until cancelled (or SIGINT/SIGTERM)."""
        # Every worker sets it, with the same arguments: setting it again changes nothing, and no
        # worker has to wait for an election before its updates can arrive. None deletes it on the
        # way out: the other workers still serve it, and Telegram keeps updates while none does.
        await bot.set_webhook(
            self.settings.webhook_url,
            secret_token=secret,
            drop_pending_updates=False,
            allowed_updates=dispatcher.resolve_used_update_types(),
        )
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM) if self._handle_signals else ()
        for number in signals:
            loop.add_signal_handler(number, self._stopping.set)
        try:
            await self._stopping.wait()
        finally:
            for number in signals:
                loop.remove_signal_handler(number)

    async def _lead(self, engine, sessionmaker, bot) -> None:
        """Wait to lead; then schedule and send until leadership is lost, and wait again."""
        settings = self.settings
        policy = DeadlinePolicy(settings.reminder_days, settings.invitation_working_days, settings.publication_warning_working_days)
        leadership = Leadership(engine, retry_seconds=settings.leader_retry_seconds)
        while True:
            await leadership.acquire()
            scheduler = Scheduler(sessionmaker, policy=policy, sweep_seconds=settings.sweep_seconds)
            sender = asyncio.create_task(OutboxSender(sessionmaker, bot, settings=settings).run(settings.outbox_interval))
            try:
                await scheduler.start()
                self.scheduler = scheduler
                await leadership.lost()
            finally:
                self.scheduler = None
                await scheduler.stop()
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sender
                await asyncio.shield(leadership.release())


def _refuse_unsafe_workers(settings: Settings, webhook: bool) -> None:
    """SO_REUSEPORT means several workers on this host: refuse what would break with more than one."""
    if settings.site_reuse_port:
        if not webhook:
            raise InvalidInput("JOINTCHECK_SITE_REUSE_PORT runs several workers, and only one can poll: use --webhook")
        if make_url(settings.database_url).get_backend_name() != "postgresql":
            raise InvalidInput("several workers need PostgreSQL (JOINTCHECK_DATABASE_URL): on SQLite each would run its own scheduler")
        if not settings.redis_url:
            raise InvalidInput("several workers need JOINTCHECK_REDIS_URL: conversation state and per-chat locking must be shared")
    elif webhook and not settings.redis_url:
        log.warning(
            "webhook without JOINTCHECK_REDIS_URL: conversations are locked per chat in this process only; "
            "run a single worker, or set JOINTCHECK_REDIS_URL"
        )
