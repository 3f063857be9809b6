"""A loopback Telegram Bot API server that tests and the demo drive the real bot through.

The bot talks to it with aiogram's own HTTP session::

    async with BotAPIEmulator(bot_username="jc_test_bot") as emulator:
        bot = Bot(emulator.token, session=AiohttpSession(api=emulator.api_server))
        alice = emulator.user(1001, "Alice")
        await alice.send("/start INVITE")
        reply = await alice.wait_for("欢迎")
        await alice.press("确认")

Files, one concern each: `state` (chats, messages, files, the update queue, recorded calls),
`methods` (the emulated Bot API methods), `formatting` (Telegram's text and keyboard rules),
`limits` (flood control and injected faults), `server` (HTTP routing and parameter decoding),
`webhook` (posting updates to a webhook the bot set), `handles` (users and groups as tests see
them), `emulator` (the object that ties them together).
"""

from jointcheck.testing.emulator.emulator import DEFAULT_TOKEN, BotAPIEmulator
from jointcheck.testing.emulator.handles import ButtonNotFound, GroupHandle, UserHandle, WaitTimeout
from jointcheck.testing.emulator.limits import DISCONNECT, Fault, RateLimiter
from jointcheck.testing.emulator.state import APICall, CallbackAnswer, CallbackQuery, ChatMessage, Webhook, WebhookPost

__all__ = [
    "DEFAULT_TOKEN",
    "DISCONNECT",
    "APICall",
    "BotAPIEmulator",
    "ButtonNotFound",
    "CallbackAnswer",
    "CallbackQuery",
    "ChatMessage",
    "Fault",
    "GroupHandle",
    "RateLimiter",
    "UserHandle",
    "WaitTimeout",
    "Webhook",
    "WebhookPost",
]
