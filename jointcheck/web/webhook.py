"""The Bot API webhook on the site's app (`jointcheck run --webhook`).

aiogram's SimpleRequestHandler answers a POST without the right X-Telegram-Bot-Api-Secret-Token
with 401 before it reads the body, so only Telegram, which got the secret with setWebhook, feeds
the dispatcher. An update is handled before its POST is answered: a worker that dies or fails in
the middle answers nothing or an error, and Telegram posts the update again, to whichever worker
takes the connection, instead of it being lost with the worker. At shutdown the updates in flight
get JOINTCHECK_SHUTDOWN_GRACE_SECONDS to finish (the dispatcher's first shutdown step, which aiohttp
runs once the site stops taking connections); one still running then is cut off unanswered, for
Telegram to post again.
"""

from __future__ import annotations

import re
import secrets

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from pydantic import ValidationError

from jointcheck.bot.app import UpdatesInFlight
from jointcheck.config import Settings
from jointcheck.core.errors import InvalidInput

# What Telegram accepts as setWebhook's secret_token.
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


def webhook_secret(settings: Settings) -> str:
    """The secret token; refuses webhook settings without a URL, or without a secret Telegram accepts."""
    if not settings.webhook_url:
        raise InvalidInput("webhook mode needs JOINTCHECK_WEBHOOK_URL, the public HTTPS URL Telegram posts updates to")
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if not SECRET_TOKEN.fullmatch(secret):
        raise InvalidInput("webhook mode needs JOINTCHECK_WEBHOOK_SECRET: 1-256 characters of A-Z a-z 0-9 _ -")
    return secret


def mount_webhook(app: web.Application, dispatcher: Dispatcher, bot: Bot, path: str, secret: str) -> None:
    """Serve updates at `path`; the dispatcher starts (menus) and stops (FSM storage, bot session) with the app."""
    _UpdateHandler(dispatcher, bot, handle_in_background=False, secret_token=secret).register(app, path=path)
    setup_application(app, dispatcher, bot=bot)


class _UpdateHandler(SimpleRequestHandler):
    """aiogram's handler: each POST is an update in flight until it is answered (bot/app.py
    UpdatesInFlight), and what is not an update is answered with a 4xx instead of a 500 and a traceback."""

    async def handle(self, request: web.Request) -> web.Response:
        async with self.dispatcher[UpdatesInFlight.KEY].track():
            return await super().handle(request)

    async def close(self) -> None:
        # aiogram closes the bot's session here, first thing at shutdown, under the updates still
        # in flight; the service closes it itself once they are done.
        pass

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        # compare_digest refuses a str with characters beyond ASCII (a header may carry them): bytes do not.
        return secrets.compare_digest(telegram_secret_token.encode("utf-8", "surrogateescape"), self.secret_token.encode())

    async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
        try:
            update = await request.json(loads=bot.session.json_loads)
        except ValueError:
            return web.Response(body="Bad Request: the body is not JSON", status=400)
        if not isinstance(update, dict):
            return web.Response(body="Bad Request: the body is not an update", status=400)
        try:
            result = await self.dispatcher.feed_webhook_update(bot, update, **self.data)
        except ValidationError:
            return web.Response(body="Bad Request: the body is not an update", status=400)
        return web.Response(body=self._build_response_writer(bot=bot, result=result))
