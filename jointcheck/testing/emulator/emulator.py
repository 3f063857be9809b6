"""BotAPIEmulator: the loopback Telegram a test or the demo starts, and what it lets them see."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from jointcheck.testing.emulator.handles import GroupHandle, UserHandle
from jointcheck.testing.emulator.limits import SEND_METHODS, Fault, Gate, RateLimiter
from jointcheck.testing.emulator.methods import BotAPI
from jointcheck.testing.emulator.server import ApiServer
from jointcheck.testing.emulator.state import (
    APICall,
    CallbackQuery,
    ChatMessage,
    ChatState,
    EmulatorState,
    Webhook,
    WebhookPost,
)
from jointcheck.testing.emulator.webhook import WebhookSender

if TYPE_CHECKING:
    from aiogram.client.telegram import TelegramAPIServer

DEFAULT_TOKEN = "123456789:TEST-emulator-token"


class BotAPIEmulator:
    """A Telegram Bot API server on 127.0.0.1 for one bot token.

    >>> async with BotAPIEmulator(bot_username="jc_test_bot") as emulator:
    ...     session = AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url))
    ...     bot = Bot(emulator.token, session=session)
    ...     alice = emulator.user(1001, "Alice")
    ...     await alice.send("/start CODE")
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "jc_test_bot",
        bot_name: str = "JointCheck Test Bot",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        bot_id, _, _ = token.partition(":")
        if not bot_id.isdigit():
            raise ValueError("token must look like a Telegram token: <bot id>:<secret>")
        self.token = token
        self.host = host
        self.port = port
        self.state = EmulatorState(int(bot_id), bot_username, bot_name)
        self.gate = Gate()
        self.webhooks = WebhookSender(self.state)
        self.api = BotAPI(self.state, self.webhooks)
        self._server = ApiServer(token, self.state, self.api, self.gate)
        self._runner: web.AppRunner | None = None
        self._users: dict[int, UserHandle] = {}
        self._groups: dict[int, GroupHandle] = {}

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> BotAPIEmulator:
        # handler_cancellation: a poll whose client went away (stop_polling) ends at once
        self._runner = web.AppRunner(self._server.app(), access_log=None, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self.webhooks.stop()
            self.state.updates.close()  # answer waiting long polls now
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotAPIEmulator:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """For `TelegramAPIServer.from_base(...)`."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_server(self) -> TelegramAPIServer:
        from aiogram.client.telegram import TelegramAPIServer

        return TelegramAPIServer.from_base(self.base_url)

    @property
    def bot_user(self) -> dict[str, Any]:
        return self.state.bot_user

    # -- the people ----------------------------------------------------------------------------------

    def user(
        self,
        telegram_id: int,
        first_name: str,
        language_code: str | None = "zh-hans",
        username: str | None = None,
        last_name: str | None = None,
    ) -> UserHandle:
        """A Telegram user with a private chat with the bot; the same id gives the same handle."""
        if telegram_id not in self._users:
            if telegram_id <= 0:
                raise ValueError("user ids are positive")
            chat = ChatState(
                telegram_id, "private", first_name=first_name, last_name=last_name, username=username, language_code=language_code
            )
            self.state.chats[telegram_id] = chat
            self._users[telegram_id] = UserHandle(self.state, chat)
        return self._users[telegram_id]

    def group(self, chat_id: int, title: str, type: str = "group") -> GroupHandle:
        """A group (or `type="supergroup"`) the bot is a member of; group ids are negative."""
        if chat_id not in self._groups:
            if chat_id >= 0 or type not in ("group", "supergroup"):
                raise ValueError("a group has a negative id and type group or supergroup")
            chat = ChatState(chat_id, type, title=title)
            self.state.chats[chat_id] = chat
            self._groups[chat_id] = GroupHandle(self.state, chat)
        return self._groups[chat_id]

    # -- what happened -------------------------------------------------------------------------------

    @property
    def calls(self) -> list[APICall]:
        """Every API call, in arrival order, answered or refused."""
        return self.state.calls

    def calls_to(self, method: str) -> list[APICall]:
        return [c for c in self.state.calls if c.method == method]

    @property
    def rejected(self) -> list[APICall]:
        """Calls answered with an error (429, 403, 400, ...); nothing in them was delivered."""
        return [c for c in self.state.calls if c.ok is False]

    @property
    def delivered(self) -> list[ChatMessage]:
        """Every message the bot sent, in order."""
        return self.state.delivered

    def sent_to(self, chat_id: int) -> list[ChatMessage]:
        """Messages the bot delivered to one chat, in order."""
        return [m for m in self.state.delivered if m.chat_id == chat_id]

    def delivered_counts(self) -> dict[int, int]:
        """Delivered messages per chat: for "nothing lost, nothing duplicated"."""
        counts: dict[int, int] = {}
        for message in self.state.delivered:
            counts[message.chat_id] = counts.get(message.chat_id, 0) + 1
        return counts

    def unanswered_callbacks(self) -> list[CallbackQuery]:
        return [q for q in self.state.callbacks.values() if q.answer is None]

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, Any]]:
        """The command list the bot set for a scope (default scope) and language."""
        key = (json.dumps(scope or {"type": "default"}, sort_keys=True), language_code)
        return self.state.commands.get(key, [])

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot's getUpdates offset, nor taken by its webhook."""
        return list(self.state.updates.pending)

    @property
    def webhook(self) -> Webhook | None:
        """The webhook the bot set, if any: updates go there instead of to getUpdates."""
        return self.state.webhook

    @property
    def webhook_posts(self) -> list[WebhookPost]:
        """Every POST of an update to a webhook, retries included, in order."""
        return self.state.webhook_posts

    def file_content(self, file_id: str) -> bytes:
        return self.state.files[file_id].content

    # -- faults and limits ---------------------------------------------------------------------------

    def limit(
        self,
        global_per_second: int | None = 30,
        per_chat_per_second: int | None = 1,
        per_group_per_minute: int | None = 20,
        methods: frozenset[str] = SEND_METHODS,
        clock: Callable[[], float] = time.monotonic,
    ) -> RateLimiter:
        """Turn on flood control (Telegram's documented limits by default); None switches one off."""
        self.gate.limiter = RateLimiter(global_per_second, per_chat_per_second, per_group_per_minute, methods, clock)
        return self.gate.limiter

    def inject(
        self,
        *,
        error: int,
        method: str | None = None,
        chat_id: int | str | None = None,
        retry_after: int = 1,
        times: int | None = 1,
        description: str | None = None,
    ) -> Fault:
        """Answer the next `times` matching calls (None: all) with `error` instead of running them.

        429 carries `parameters.retry_after`; 403 reads "Forbidden: bot was blocked by the user";
        `error=DISCONNECT` (0) closes the connection without an answer, as a network failure.
        """
        fault = Fault(error=error, method=method, chat_id=chat_id, retry_after=retry_after, times=times, description=description)
        self.gate.faults.append(fault)
        return fault

    def hold_answers(self) -> None:
        """From now on sends, edits and callback answers take effect but are not answered, until
        `release_answers`: a bot that dies meanwhile never learns that they arrived, and one that
        waits, waits (as for a Telegram that takes its whole request timeout)."""
        self._server.answering.clear()

    def release_answers(self) -> None:
        self._server.answering.set()
