"""With JOINTCHECK_REDIS_URL set, conversation state lives in Redis and survives a restart."""

from __future__ import annotations

from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from aiogram.types import Message

from jointcheck.bot.app import _fsm_backend
from jointcheck.config import Settings
from jointcheck.testing.emulator import BotAPIEmulator
from jointcheck.testing.harness import PollingBot
from tests.conftest import clear_fsm_keys


async def remember(message: Message, state: FSMContext) -> None:
    await state.update_data(memo=message.text.split(maxsplit=1)[1])
    await message.answer("kept")


async def recall(message: Message, state: FSMContext) -> None:
    await message.answer(f"memo={(await state.get_data()).get('memo')}")


def configure(dp) -> None:
    """A stand-in for a wizard step, on the root router so it comes before the feature routers."""
    dp.message.register(remember, Command("remember"))
    dp.message.register(recall, Command("recall"))


async def test_fsm_state_in_redis_survives_a_restart(redis_url, sessionmaker):
    storage, isolation = _fsm_backend(Settings(redis_url=redis_url))
    assert isinstance(storage, RedisStorage) and isinstance(isolation, RedisEventIsolation)
    await clear_fsm_keys(redis_url, 7001)
    try:
        async with BotAPIEmulator(bot_username="jc_test_bot") as emulator:
            user = emulator.user(7001, "王", language_code="zh-hans")
            bot = PollingBot(
                sessionmaker, emulator.token, emulator.base_url, configure=configure, storage=storage, events_isolation=isolation
            )
            await bot.start()
            await user.send("/remember 第三步")
            await user.wait_for("kept")
            await bot.stop()
            assert [key async for key in storage.redis.scan_iter("fsm:7001:7001:*")]  # the state is in Redis, not in the process

            fresh_storage, fresh_isolation = _fsm_backend(Settings(redis_url=redis_url))
            again = PollingBot(
                sessionmaker,
                emulator.token,
                emulator.base_url,
                configure=configure,
                storage=fresh_storage,
                events_isolation=fresh_isolation,
            )
            await again.start()
            await user.send("/recall")
            await user.wait_for("memo=第三步")
            await again.stop()
            await fresh_storage.close()
    finally:
        await clear_fsm_keys(redis_url, 7001)
        await storage.close()


def test_no_redis_url_means_the_database_default():
    assert _fsm_backend(Settings(redis_url=None)) == (None, None)
