"""The outbox sender: delivers notification rows within Telegram's limits, in order per chat, and
records what became of each.

    sender = OutboxSender(sessionmaker, bot, settings=settings)
    await sender.drain()          # once: every row that may go now
    task = asyncio.create_task(sender.run(interval=1.0))  # until cancelled; the only sender running

A row is claimed (`sending`, one more attempt) and committed before it is sent, and marked `sent`
with the Telegram message id right after, so a row is in flight only between those two commits.
Each row is rendered by bot/notices.py in the recipient's language and ends with its outbox id
(`#123`), so a repeat is recognisable by whoever reads it, and by tests.

- 429: every chat waits `retry_after` (the flood wait is the bot's), then the same message is sent
  again; never a failure.
- A network error, a 5xx, or anything unexpected: the row goes back with `not_before` set,
  exponentially later up to MAX_BACKOFF, for as long as it takes. The chat's later rows wait. (A
  notice too long for one message goes on from the part that failed.)
- 403 (blocked), any 400 ("chat not found", or a fault of the message), or a template that cannot
  be rendered: `undeliverable`, and the officers of the recipient's department (when the recipient
  is an inspector) are told why in the same transaction; a fault of the message is logged as an error.

A crash between send and commit: Telegram has no idempotent send, and a bot cannot read back what
it sent, so the sender cannot know whether a row left `sending` arrived. When `run` starts, such
rows become `resend` (counted in `stats.resent`, noted in the row's error) and go out once more,
marked `#123 ↻`: at least once, never silently lost; a repeat is the same notice with the same id.
Only rows in flight at the crash can repeat, at most `concurrency` of them. A notice too long for
one message goes in parts, each ending with the footer and recorded as delivered before the next
goes: only the part in flight can repeat, and it comes again marked. `run` assumes it is the
only sender (the leader, scheduler/leader.py); `drain` alone is safe to run twice at once.

Pacing (scheduler/rate_limits.py): each pass takes the oldest due row of every chat (a chat's
later rows wait for the next pass, so they cannot overtake) and sends them through `concurrency`
workers, readiest chat first, each send waiting for the overall, the chat's and the group's
bucket: a chat held to 1/s takes one worker for a moment, never the queue.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
from collections import deque
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup, Message
from jinja2 import TemplateError
from sqlalchemy.ext.asyncio import async_sessionmaker

from jointcheck.bot.long_text import MESSAGE_LIMIT, split_text
from jointcheck.bot.notices import render_notice
from jointcheck.config import Settings
from jointcheck.core.clock import Clock
from jointcheck.core.crashpoints import crashpoint
from jointcheck.core.models import OutboxMessage
from jointcheck.core.services import delivery
from jointcheck.core.uow import UnitOfWork
from jointcheck.scheduler.rate_limits import RateLimits

log = logging.getLogger("jointcheck.scheduler")

REPEAT_MARK = "↻"
FOOTER = re.compile(rf"#(\d+)( {REPEAT_MARK})?\s*$")
FIRST_BACKOFF = 5.0  # seconds
MAX_BACKOFF = 600.0
IN_FLIGHT_NOTE = "in flight when the previous sender stopped: sent again, marked as a possible repeat"


def outbox_id(text: str | None) -> tuple[int, bool] | None:
    """(outbox id, marked as a possible repeat) from the end of a delivered message's text."""
    match = FOOTER.search(text or "")
    return (int(match.group(1)), match.group(2) is not None) if match else None


def backoff(attempts: int) -> float:
    """Seconds before trying again after `attempts` failed tries."""
    return min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (attempts - 1))


@dataclass
class SenderStats:
    sent: int = 0
    rate_limited: int = 0  # 429 answers, each waited out and sent again
    retried: int = 0  # network and server errors: rows put back for later
    undeliverable: int = 0
    resent: int = 0  # rows found in flight at start, sent again as possible repeats


@dataclass(frozen=True)
class _Row:
    id: int
    chat_id: int
    template: str
    params: str
    status: str  # pending or resend: what a claim expects, and what a retry goes back to
    attempts: int
    parts_sent: int

    @classmethod
    def of(cls, row: OutboxMessage) -> _Row:
        return cls(row.id, row.chat_id, row.template, row.params, row.status, row.attempts, row.parts_sent)


class OutboxSender:
    def __init__(
        self,
        sessionmaker: async_sessionmaker,
        bot: Bot,
        *,
        settings: Settings | None = None,
        concurrency: int = 4,
        batch: int = 200,
        clock: Clock | None = None,
    ) -> None:
        """`concurrency` sends at a time overlap one send's round trip and database writes with the
        next; more would only widen what a crash leaves unknown."""
        self._sessionmaker = sessionmaker
        self._bot = bot
        self._limits = RateLimits.from_settings(settings or Settings())
        self._concurrency = concurrency
        self._batch = batch
        self._clock = clock
        self.stats = SenderStats()

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._sessionmaker, self._clock)

    async def run(self, interval: float = 1.0) -> None:
        """Send again what was in flight, then drain every `interval` seconds, until cancelled."""
        recover = True
        while True:
            try:
                if recover:
                    await self.recover()
                    recover = False
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database went away, say: what this drain left in flight goes again
                log.exception("outbox drain failed")
                recover = True
            await asyncio.sleep(interval)

    async def recover(self) -> int:
        """Rows left `sending` by a sender that stopped: to be sent again, marked (see the module doc)."""
        async with self._uow() as uow:
            ids = await delivery.requeue_in_flight(uow, IN_FLIGHT_NOTE)
            await uow.commit()
        if ids:
            log.warning("outbox: %s rows were in flight when the last sender stopped; sending them again: %s", len(ids), ids)
        self.stats.resent += len(ids)
        return len(ids)

    async def drain(self, limit: int | None = None) -> int:
        """Send every row that may go now (at most `limit`), pass after pass; how many were delivered."""
        delivered = taken = 0
        while limit is None or taken < limit:
            size = self._batch if limit is None else min(self._batch, limit - taken)
            async with self._uow() as uow:
                heads = [_Row.of(row) for row in await delivery.sendable(uow, size)]
            if not heads:
                break
            taken += len(heads)
            delivered += await self._pass(heads)
        return delivered

    async def _pass(self, heads: list[_Row]) -> int:
        """One row per chat, so the workers never race within a chat."""
        queue = deque(sorted(heads, key=lambda row: (self._limits.wait(row.chat_id), row.id)))
        delivered = 0

        async def work() -> None:
            nonlocal delivered
            while queue:
                sent = await self._deliver(queue.popleft())  # awaited first: `delivered +=` around an await loses counts
                delivered += sent

        async with asyncio.TaskGroup() as group:
            for _ in range(min(self._concurrency, len(queue))):
                group.create_task(work())
        return delivered

    # ---- one row ---------------------------------------------------------------------------

    async def _ready(self, chat_id: int) -> None:
        while (delay := self._limits.wait(chat_id)) > 0:
            await asyncio.sleep(delay)

    async def _deliver(self, row: _Row) -> bool:
        await self._ready(row.chat_id)  # before the claim, so a row waits for its chat unclaimed
        async with self._uow() as uow:
            if not await delivery.claim(uow, row.id, row.status):
                return False  # another sender took it
            try:
                rendered = await render_notice(uow, row.chat_id, row.template, json.loads(row.params or "{}"))
            except (TemplateError, ValueError, KeyError) as error:
                log.error("outbox %s (%s to %s) cannot be rendered: %s", row.id, row.template, row.chat_id, error)
                await uow.commit()
                await self._undeliverable(row, "", f"render: {type(error).__name__}: {error}")
                return False
            await uow.commit()
        footer = f"#{row.id} {REPEAT_MARK}" if row.status == "resend" else f"#{row.id}"
        chat = _PacedChat(self)
        try:
            sent = await self._send_parts(chat, row, rendered, footer)
        except asyncio.CancelledError:
            if not chat.maybe_delivered:  # nothing went out: undo the claim rather than leave it in doubt
                await asyncio.shield(self._settle(row, lambda uow: delivery.release(uow, row.id, row.status)))
            raise
        except (TelegramForbiddenError, TelegramBadRequest) as error:
            blocked = isinstance(error, TelegramForbiddenError)
            cause = "blocked" if blocked else "no_chat" if "chat not found" in error.message.lower() else "refused"
            log.log(
                logging.WARNING if cause != "refused" else logging.ERROR,
                "outbox %s undeliverable to %s: %s",
                row.id,
                row.chat_id,
                error.message,
            )
            await self._undeliverable(row, rendered.text, error.message, cause)
            return False
        except Exception as error:
            delay = backoff(row.attempts + 1)
            expected = isinstance(error, (TelegramNetworkError, TelegramServerError))
            log.log(
                logging.WARNING if expected else logging.ERROR,
                "outbox %s to %s failed (attempt %s), again in %.0fs: %s",
                row.id,
                row.chat_id,
                row.attempts + 1,
                delay,
                error,
                exc_info=not expected,
            )
            reason = f"{type(error).__name__}: {error}"
            await self._settle(row, lambda uow: delivery.retry_later(uow, row.id, row.status, dt.timedelta(seconds=delay), reason))
            self.stats.retried += 1
            return False
        await self._settle(row, lambda uow: delivery.mark_sent(uow, row.id, sent.message_id))
        self.stats.sent += 1
        return True

    async def _send_parts(self, chat: _PacedChat, row: _Row, rendered, footer: str) -> Message:
        """Each part ends with the footer, so any part sent again says what it is; each part but
        the last is recorded as delivered before the next goes, so another attempt (after a crash
        or a failure) goes on from the first part not known to have arrived. The last part's message."""
        parts = split_text(rendered.text, MESSAGE_LIMIT - len(footer) - 2)
        first = min(row.parts_sent, len(parts) - 1)  # a notice rendered shorter this time still sends its end
        for index in range(first, len(parts) - 1):
            await chat.send_message(row.chat_id, f"{parts[index]}\n\n{footer}")
            await crashpoint("outbox:between-parts")
            await self._settle(row, lambda uow, done=index + 1: delivery.part_sent(uow, row.id, done))
            chat.maybe_delivered = False  # what went out is recorded; only the next part can be in doubt
        return await chat.send_message(row.chat_id, f"{parts[-1]}\n\n{footer}", reply_markup=rendered.reply_markup)

    async def _settle(self, row: _Row, change) -> None:
        async with self._uow() as uow:
            if not await change(uow):
                log.error("outbox %s was settled by someone else while this sender had it", row.id)
            await uow.commit()

    async def _undeliverable(self, row: _Row, text: str, reason: str, cause: str = "refused") -> None:
        """The row ends `undeliverable`, whatever the cause (`blocked` the bot, `no_chat` with it, or
        a message Telegram or the template `refused`), and the officers of the recipient's department
        (when the recipient is an inspector) are told in the same transaction."""
        async with self._uow() as uow:
            # The notice's first line says what it was: templates keep each element on one line.
            if not await delivery.give_up(uow, row.id, row.chat_id, row.template, reason, cause=cause, notice=text.split("\n", 1)[0]):
                return
            await uow.commit()
        self.stats.undeliverable += 1


class _PacedChat:
    """A Bot for one row's parts: each message waits for the rate limits, and a
    429 holds every chat for `retry_after` and sends the same message again."""

    def __init__(self, sender: OutboxSender) -> None:
        self._sender = sender
        self.maybe_delivered = False  # a request went out and was not refused: it may have arrived

    async def send_message(self, chat_id: int, text: str, reply_markup: InlineKeyboardMarkup | None = None) -> Message:
        limits = self._sender._limits
        while True:
            await self._sender._ready(chat_id)
            limits.take(chat_id)
            before, self.maybe_delivered = self.maybe_delivered, True
            try:
                return await self._sender._bot.send_message(chat_id, text, reply_markup=reply_markup)
            except TelegramRetryAfter as error:
                self.maybe_delivered = before  # a 429 is a refusal: this message did not go out
                log.warning("outbox: 429 from Telegram to %s, all chats wait %ss", chat_id, error.retry_after)
                self._sender.stats.rate_limited += 1
                limits.pause(error.retry_after)


__all__ = ["OutboxSender", "SenderStats", "backoff", "outbox_id"]
