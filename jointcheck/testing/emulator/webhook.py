"""Webhook delivery: while a webhook is set, pending updates are posted to it, as Telegram does.

Each update is a JSON POST, with X-Telegram-Bot-Api-Secret-Token when setWebhook gave a secret. An
answer other than 2xx, or no answer, is an error: the update is posted again after a pause, and
dropped after the last retry (Telegram "gives up after a reasonable amount of attempts"; its pauses
are longer). One chat's updates go one at a time and in order, different chats' in parallel up to
the webhook's max_connections. Every post opens a new connection, so workers sharing a port with
SO_REUSEPORT each get the kernel's share. A Bot API method in the webhook's answer is not run:
jointcheck's bot never answers with one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import aiohttp

from jointcheck.testing.emulator.state import EmulatorState, Webhook, WebhookPost

RETRY_PAUSES = (0.1, 0.2, 0.5, 1.0, 2.0)  # seconds before each retry
TIMEOUT = aiohttp.ClientTimeout(total=60)  # how long Telegram waits for the webhook's answer
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _chat_of(update: dict[str, Any]) -> object:
    payload = next(v for k, v in update.items() if k != "update_id")
    chat = payload.get("chat") or (payload.get("message") or {}).get("chat") or payload.get("from") or {}
    return chat.get("id")


class WebhookSender:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        """Post updates while `state.webhook` is set; a new URL or secret applies from the next post."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop posting; updates whose post was cut short stay pending."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        in_flight: dict[int, asyncio.Task] = {}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True), timeout=TIMEOUT) as http:
            try:
                while (hook := self.state.webhook) is not None:
                    self._start_posts(http, hook, in_flight)
                    arrival = asyncio.ensure_future(self.state.updates.wait_for_change(3600))
                    await asyncio.wait({arrival, *in_flight.values()}, return_when=asyncio.FIRST_COMPLETED)
                    arrival.cancel()
            finally:
                for task in in_flight.values():
                    task.cancel()
                await asyncio.gather(*in_flight.values(), return_exceptions=True)

    def _start_posts(self, http: aiohttp.ClientSession, hook: Webhook, in_flight: dict[int, asyncio.Task]) -> None:
        for update_id in [u for u, task in in_flight.items() if task.done()]:
            del in_flight[update_id]
        busy: set[object] = set()  # chats with an older update still on its way
        for update in self.state.updates.deliverable():
            chat = _chat_of(update)
            if chat not in busy and update["update_id"] not in in_flight and len(in_flight) < hook.max_connections:
                in_flight[update["update_id"]] = asyncio.create_task(self._deliver(http, update))
            busy.add(chat)

    async def _deliver(self, http: aiohttp.ClientSession, update: dict[str, Any]) -> None:
        for pause in (*RETRY_PAUSES, None):
            hook = self.state.webhook
            post = WebhookPost(update["update_id"], hook.url, time.monotonic())
            self.state.webhook_posts.append(post)
            headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
            try:
                async with http.post(hook.url, json=update, headers=headers) as response:
                    post.status = response.status
                    await response.read()
                if 200 <= response.status < 300:
                    break
                post.error = f"Wrong response from the webhook: {response.status} {response.reason}"
            except TimeoutError:
                post.error = "Read timeout expired"
            except aiohttp.ClientError as error:
                post.error = f"Connection failed: {error}"
            hook.last_error_date, hook.last_error_message = int(time.time()), post.error
            if pause is None:
                break
            await asyncio.sleep(pause)
        self.state.updates.remove(update)
