"""Telegram's flood limits as token buckets: overall, per chat, and per group (a negative chat id).

    limits = RateLimits(30, 1, 20)          # per second overall, per second a chat, per minute a group
    while (delay := limits.wait(chat_id)) > 0:
        await asyncio.sleep(delay)
    limits.take(chat_id)                    # then send at once
    limits.pause(retry_after)               # Telegram answered 429: nobody sends until it has passed

Pure: time comes only from `clock` (seconds, monotonic), so a test can move it.

Telegram counts the requests that arrive in a sliding window: at most `limit` per `window`. A
bucket for it refills at (1 - MARGIN) x limit / window and holds 1 + MARGIN x limit / 2 tokens.
The pace is under the limit because a request is counted when it arrives, not when it left: at
the exact limit, a request one millisecond slower on its way than the one `limit` places before
it would make limit + 1 in a window, and about every other send would be a 429 costing a pause of
a second. The fraction of a token beyond one makes up for sends that left late (a sleeping task
never wakes on the dot) without ever letting a burst through: any limit + 1 consecutive sends
still span window x (1 - MARGIN/2) / (1 - MARGIN), 2.6% more than the window (26 ms a second,
1.6 s a minute) for the requests' jitter.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from jointcheck.config import Settings

MARGIN = 0.05
# A full per-chat bucket is the same as a new one; past this many buckets, full ones are dropped.
PRUNE_AT = 1024


class TokenBucket:
    """For at most `limit` events in any `window` seconds, as above; starts full."""

    def __init__(self, limit: float, window: float, now: float) -> None:
        if limit <= 0 or window <= 0:
            raise ValueError("a rate limit must be positive")
        self.rate = (1.0 - MARGIN) * limit / window
        self.capacity = 1.0 + MARGIN * limit / 2
        self._tokens = self.capacity
        self._at = now

    def _refill(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = max(self._at, now)

    def wait(self, now: float) -> float:
        """Seconds until a token is there (0: now)."""
        self._refill(now)
        # a sleep of exactly the computed delay can land a float's rounding short of the token
        return 0.0 if self._tokens >= 1.0 - 1e-9 else (1.0 - self._tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self._tokens -= 1.0

    def full(self, now: float) -> bool:
        self._refill(now)
        return self._tokens >= self.capacity


class RateLimits:
    def __init__(
        self, per_second: float, per_chat_per_second: float, per_group_per_minute: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._per_chat = per_chat_per_second
        self._per_group = per_group_per_minute
        self._overall = TokenBucket(per_second, 1.0, clock())
        self._chats: dict[int, TokenBucket] = {}
        self._groups: dict[int, TokenBucket] = {}
        self._paused_until = 0.0
        self._prune_at = PRUNE_AT

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        return cls(settings.outbox_rate_per_second, settings.outbox_rate_per_chat_per_second, settings.outbox_rate_per_group_per_minute)

    def _buckets(self, chat_id: int, now: float) -> list[TokenBucket]:
        buckets = [self._overall]
        if chat_id not in self._chats:
            self._chats[chat_id] = TokenBucket(self._per_chat, 1.0, now)
        buckets.append(self._chats[chat_id])
        if chat_id < 0:
            if chat_id not in self._groups:
                self._groups[chat_id] = TokenBucket(self._per_group, 60.0, now)
            buckets.append(self._groups[chat_id])
        return buckets

    def wait(self, chat_id: int) -> float:
        """Seconds until a message to `chat_id` may go (0: now)."""
        now = self._clock()
        return max([self._paused_until - now, *(bucket.wait(now) for bucket in self._buckets(chat_id, now))])

    def take(self, chat_id: int) -> None:
        """Count a message to `chat_id` going now; call it only when `wait` is 0."""
        now = self._clock()
        for bucket in self._buckets(chat_id, now):
            bucket.take(now)
        if len(self._chats) > self._prune_at:
            for buckets in (self._chats, self._groups):
                for idle in [key for key, bucket in buckets.items() if bucket.full(now)]:
                    del buckets[idle]
            self._prune_at = max(PRUNE_AT, 2 * len(self._chats))

    def pause(self, seconds: float) -> None:
        """Telegram's flood wait is the bot's, whatever chat the 429 came from: every chat waits."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
