"""Fixtures of the end-to-end layer: the loopback Bot API emulator and the real bot polling it."""

from __future__ import annotations

import pytest


@pytest.fixture
async def emulator():
    """A loopback Bot API server the real bot talks to (jointcheck/testing/emulator)."""
    from jointcheck.testing.emulator import BotAPIEmulator

    async with BotAPIEmulator(bot_username="jc_test_bot") as emulator:
        yield emulator


@pytest.fixture
def deliver(sessionmaker, running):
    """Send every notice the outbox can send now, through the running bot, at test speed (the
    sender's pacing has its own tests); returns how many were delivered."""
    from jointcheck.config import Settings
    from jointcheck.scheduler.sender import OutboxSender

    fast = Settings(outbox_rate_per_second=10_000, outbox_rate_per_chat_per_second=10_000, outbox_rate_per_group_per_minute=600_000)

    async def drain() -> int:
        sender, delivered = OutboxSender(sessionmaker, running.bot, settings=fast), 0
        while sent := await sender.drain():
            delivered += sent
        return delivered

    return drain


@pytest.fixture
async def running(emulator, sessionmaker):
    """The real bot, long polling the emulator; every button press it got must have been answered."""
    from jointcheck.testing.harness import PollingBot

    bot = PollingBot(sessionmaker, emulator.token, emulator.base_url)
    await bot.start()
    yield bot
    await bot.stop()
    assert emulator.unanswered_callbacks() == []
