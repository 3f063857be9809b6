"""Flood limits and injected faults: the ways Telegram refuses a call that is otherwise fine."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from jointcheck.testing.emulator.state import ApiError, ChatState, UpdateQueue

SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
# Calls that reach the user's chat, refused with 403 once the user blocked the bot.
DELIVERY_METHODS = SEND_METHODS | {"editMessageText", "editMessageReplyMarkup", "sendChatAction", "deleteMessage"}

BLOCKED = "Forbidden: bot was blocked by the user"
DESCRIPTIONS = {
    400: "Bad Request: injected error",
    401: "Unauthorized",
    403: BLOCKED,
    404: "Not Found",
    409: UpdateQueue.CONFLICT,
    500: "Internal Server Error",
    502: "Bad Gateway",
}


# inject(error=DISCONNECT): the connection closes without an answer, as a network failure looks to the bot.
DISCONNECT = 0


class Disconnect(Exception):
    """Close the connection instead of answering."""


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


@dataclass
class Fault:
    """An error to answer instead of running the method; `times=None` keeps it forever."""

    error: int
    method: str | None = None  # None: any method
    chat_id: int | str | None = None  # None: any chat (or none)
    retry_after: int = 1
    description: str | None = None
    times: int | None = 1
    hits: int = 0

    def matches(self, method: str, chat_id: object) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.chat_id is None or str(self.chat_id) == str(chat_id)

    def to_error(self) -> ApiError | Disconnect:
        if self.error == DISCONNECT:
            return Disconnect()
        if self.error == 429:
            return too_many_requests(self.retry_after)
        return ApiError(self.error, self.description or DESCRIPTIONS.get(self.error, f"Error {self.error}"))


class RateLimiter:
    """Sliding windows over delivered sends, like Telegram's flood control.

    Telegram's documented limits: about 30 messages per second overall, one per second per chat,
    20 per minute per group. `retry_after` is whole seconds until the oldest send in the full window
    leaves it, at least 1.
    """

    def __init__(
        self,
        global_per_second: int | None = 30,
        per_chat_per_second: int | None = 1,
        per_group_per_minute: int | None = 20,
        methods: frozenset[str] = SEND_METHODS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.global_per_second = global_per_second
        self.per_chat_per_second = per_chat_per_second
        self.per_group_per_minute = per_group_per_minute
        self.methods = methods
        self.clock = clock
        self._windows: dict[tuple[str, object], deque[float]] = {}

    def _rules(self, chat_id: object, is_group: bool) -> list[tuple[tuple[str, object], int, float]]:
        rules = []
        if self.global_per_second is not None:
            rules.append((("global", None), self.global_per_second, 1.0))
        if self.per_chat_per_second is not None:
            rules.append((("chat", str(chat_id)), self.per_chat_per_second, 1.0))
        if is_group and self.per_group_per_minute is not None:
            rules.append((("group", str(chat_id)), self.per_group_per_minute, 60.0))
        return rules

    def check(self, method: str, chat_id: object, is_group: bool) -> ApiError | None:
        """429 if this send would exceed a limit now; nothing is counted."""
        if method not in self.methods:
            return None
        now = self.clock()
        waits = []
        for key, limit, window in self._rules(chat_id, is_group):
            sends = self._windows.setdefault(key, deque())
            while sends and sends[0] <= now - window:
                sends.popleft()
            if len(sends) >= limit:
                waits.append(sends[len(sends) - limit] + window - now)
        if waits:
            return too_many_requests(max(1, math.ceil(max(waits))))
        return None

    def record(self, method: str, chat_id: object, is_group: bool) -> None:
        """Count a delivered send."""
        if method not in self.methods:
            return
        now = self.clock()
        for key, _limit, _window in self._rules(chat_id, is_group):
            self._windows.setdefault(key, deque()).append(now)


class Gate:
    """Runs before every method: injected faults first, then a blocked user, then flood limits."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.limiter: RateLimiter | None = None

    def check(self, method: str, chat_id: object, chat: ChatState | None) -> None:
        for fault in self.faults:
            if fault.matches(method, chat_id):
                fault.hits += 1
                raise fault.to_error()
        if method in DELIVERY_METHODS and chat is not None and chat.blocked:
            raise ApiError(403, BLOCKED)
        if self.limiter is not None and (error := self.limiter.check(method, chat_id, _is_group(chat))):
            raise error

    def record(self, method: str, chat_id: object, chat: ChatState | None) -> None:
        if self.limiter is not None:
            self.limiter.record(method, chat_id, _is_group(chat))


def _is_group(chat: ChatState | None) -> bool:
    return chat is not None and chat.type in ("group", "supergroup")
