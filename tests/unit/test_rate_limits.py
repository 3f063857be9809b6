"""The outbox's token buckets on a fake clock: Telegram's sliding windows are never overrun, even by
a sender that wakes late, and one chat's limit holds up no other chat."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jointcheck.scheduler.rate_limits import MARGIN, RateLimits, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def greedy(limits: RateLimits, clock: FakeClock, chats: list[int], lateness=lambda i: 0.0) -> list[tuple[float, int]]:
    """Send to `chats` in turn as soon as allowed, each wake-up `lateness(i)` seconds late: (time, chat)."""
    sent = []
    for i, chat in enumerate(chats):
        while (delay := limits.wait(chat)) > 0:
            clock.now += delay + lateness(i)
        limits.take(chat)
        sent.append((clock.now, chat))
    return sent


def most_in_a_window(times: list[float], window: float) -> int:
    """The most sends in any half-open window of `window` seconds, as Telegram counts them."""
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + window) for i, start in enumerate(times))


def test_overall_limit_is_kept_and_nearly_reached():
    clock = FakeClock()
    limits = RateLimits(30, 1, 20, clock=clock)

    sent = greedy(limits, clock, list(range(1, 601)))  # 600 different chats

    times = [t for t, _ in sent]
    assert most_in_a_window(times, 1.0) <= 30
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert 30 * (1 - MARGIN) * 0.99 <= rate <= 30 * (1 - MARGIN) * 1.01
    # every 31 consecutive sends leave room for the requests' jitter on the way
    assert min(b - a for a, b in zip(times, times[30:])) > 1.02


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=0.030), min_size=1, max_size=50))
def test_late_wake_ups_never_make_a_burst(lateness):
    clock = FakeClock()
    limits = RateLimits(30, 1, 20, clock=clock)

    sent = greedy(limits, clock, list(range(1, 301)), lambda i: lateness[i % len(lateness)])

    times = [t for t, _ in sent]
    assert min(b - a for a, b in zip(times, times[30:])) > 1.0


def test_late_wake_ups_are_made_up_for():
    clock = FakeClock()
    limits = RateLimits(30, 1, 20, clock=clock)

    times = [t for t, _ in greedy(limits, clock, list(range(1, 301)), lambda i: 0.004)]

    # 4 ms late on every 35 ms would lose 10%; the bucket's fraction of a token gives it back
    assert (len(times) - 1) / (times[-1] - times[0]) >= 30 * (1 - MARGIN) * 0.99


def test_one_slow_chat_holds_up_no_other():
    clock = FakeClock()
    limits = RateLimits(30, 1, 20, clock=clock)

    sent = greedy(limits, clock, [7, 7, 7, 8, 9])

    assert limits.wait(7) > 0.9  # chat 7 just had its third message
    per_chat = {chat: [t for t, c in sent if c == chat] for chat in (7, 8, 9)}
    assert all(1.0 < b - a < 1.1 for a, b in zip(per_chat[7], per_chat[7][1:]))
    assert per_chat[8][0] - per_chat[7][-1] < 0.05 and per_chat[9][0] - per_chat[8][0] < 0.05


def test_a_chat_gets_at_most_one_message_a_second():
    clock = FakeClock()
    limits = RateLimits(1000, 1, 20, clock=clock)

    times = [t for t, _ in greedy(limits, clock, [42] * 20)]

    assert most_in_a_window(times, 1.0) == 1


def test_a_group_has_a_negative_id_and_twenty_a_minute():
    clock = FakeClock()
    limits = RateLimits(1000, 1000, 20, clock=clock)

    group = [t for t, _ in greedy(limits, clock, [-100123] * 45)]
    clock.now += 120
    private = [t for t, _ in greedy(limits, clock, [100123] * 45)]

    assert most_in_a_window(group, 60.0) <= 20
    assert min(b - a for a, b in zip(group, group[20:])) > 60.0
    assert private[-1] - private[0] < 1.0  # a private chat is not a group


def test_a_429_pauses_every_chat():
    clock = FakeClock()
    limits = RateLimits(30, 1, 20, clock=clock)
    limits.take(1)

    limits.pause(3)

    assert limits.wait(2) == pytest.approx(3) and limits.wait(-5) == pytest.approx(3)
    limits.pause(1)  # a shorter wait does not cut a longer one short
    clock.now += 3
    assert limits.wait(2) == 0


def test_idle_chats_are_forgotten():
    clock = FakeClock()
    limits = RateLimits(1000, 1, 20, clock=clock)

    greedy(limits, clock, list(range(1, 20_001)))  # 20 s of a new chat every millisecond

    assert len(limits._chats) < 5000  # about 1,000 chats were sent to in the last second
    assert limits.wait(1) < 0.01 and limits.wait(20_000) > 0.9  # chat 1 forgotten, chat 20,000 not


def test_a_limit_must_be_positive():
    with pytest.raises(ValueError):
        TokenBucket(0, 1.0, 0.0)
