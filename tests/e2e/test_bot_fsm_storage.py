"""Conversation state (aiogram FSM) in the fsm_states table by default, in Redis when asked: it
survives a restart of the bot either way."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiogram.exceptions import DataNotDictLikeError
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import Message
from sqlalchemy import select

from jointcheck.bot.fsm_storage import DatabaseStorage, flat_key
from jointcheck.core.models import FsmState
from jointcheck.core.uow import UnitOfWork
from jointcheck.testing.emulator import BotAPIEmulator
from jointcheck.testing.harness import PollingBot
from tests.conftest import clear_fsm_keys

USER = 7101


class Memo(StatesGroup):
    kept = State()


async def remember(message: Message, state: FSMContext, uow: UnitOfWork) -> None:
    # The update's unit of work is open from here on: on SQLite it holds the write lock, which the
    # storage must not wait for.
    await uow.users.by_telegram_id(message.from_user.id)
    await state.set_state(Memo.kept)
    await state.update_data(memo=message.text.split(maxsplit=1)[1], steps=[1, 2])
    await message.answer("kept")


async def recall(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    await message.answer(f"state={await state.get_state()} memo={data.get('memo')} steps={data.get('steps')}")


async def forget(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer("forgotten")


def configure(dp) -> None:
    """Stand-ins for a wizard's steps, on the root router so they come before the feature routers."""
    dp.message.register(remember, Command("remember"))
    dp.message.register(recall, Command("recall"))
    dp.message.register(forget, Command("forget"))


async def rows(sessionmaker) -> list[tuple[str, str | None, dict]]:
    async with UnitOfWork(sessionmaker) as uow:
        found = (await uow.session.execute(select(FsmState).order_by(FsmState.key))).scalars()
        return [(row.key, row.state, json.loads(row.data)) for row in found]


@asynccontextmanager
async def polling(request, backend: str, sessionmaker, handlers) -> AsyncIterator[tuple[object, PollingBot]]:
    """USER's chat and a bot with `handlers` (not started), its state in the table or in Redis;
    USER's Redis keys are cleared before and after, and the bot stopped at the end."""
    redis_url = request.getfixturevalue("redis_url") if backend == "redis" else None
    await clear_fsm_keys(redis_url, USER)
    async with BotAPIEmulator(bot_username="jc_test_bot") as emulator:
        bot = PollingBot(sessionmaker, emulator.token, emulator.base_url, configure=handlers, redis_url=redis_url)
        try:
            yield emulator.user(USER, "王"), bot
        finally:
            await bot.stop()
            await clear_fsm_keys(redis_url, USER)


@pytest.mark.parametrize("backend", ["database", "redis"])
async def test_state_and_data_survive_a_restart(request, backend, sessionmaker):
    async with polling(request, backend, sessionmaker, configure) as (user, bot):
        await bot.start()
        await user.send("/remember 第三步")
        await user.wait_for("kept")
        bot_id = bot.bot.id
        await bot.stop()
        key = flat_key(StorageKey(bot_id=bot_id, chat_id=USER, user_id=USER))
        if backend == "database":
            assert await rows(sessionmaker) == [(key, "Memo:kept", {"memo": "第三步", "steps": [1, 2]})]
        else:  # Redis holds it, the table does not
            assert await rows(sessionmaker) == []

        await bot.start()  # a new Bot, Dispatcher and storage
        await user.send("/recall")
        await user.wait_for("state=Memo:kept memo=第三步 steps=[1, 2]")
        await user.send("/forget")
        await user.wait_for("forgotten")
        await bot.stop()
        assert await rows(sessionmaker) == []  # a cleared conversation leaves no row behind
        await bot.start()
        await user.send("/recall")
        await user.wait_for("state=None memo=None steps=None")


async def test_the_storage_outside_an_update(sessionmaker):
    storage = DatabaseStorage(sessionmaker)
    key = StorageKey(bot_id=1, chat_id=-100, user_id=5)
    in_thread = StorageKey(bot_id=1, chat_id=-100, user_id=5, thread_id=7)

    await storage.set_state(key, Memo.kept)
    await storage.update_data(key, {"a": 1})
    assert await storage.update_data(key, {"b": [2]}) == {"a": 1, "b": [2]}
    await storage.set_state(in_thread, "other")
    assert (await storage.get_state(key), await storage.get_data(key)) == ("Memo:kept", {"a": 1, "b": [2]})
    assert (await storage.get_state(in_thread), await storage.get_data(in_thread)) == ("other", {})
    assert await storage.get_value(key, "b") == [2]
    assert sorted(k for k, _, _ in await rows(sessionmaker)) == ["1:-100:5:7::default", "1:-100:5:::default"]

    with pytest.raises(TypeError):  # JSON cannot hold it: refused where it is set
        await storage.set_data(key, {"chosen": {1, 2}})
    with pytest.raises(DataNotDictLikeError):
        await storage.set_data(key, [("a", 1)])
    assert await storage.get_data(key) == {"a": 1, "b": [2]}

    await storage.set_state(key, None)
    await storage.set_data(key, {})
    await storage.set_state(in_thread, None)
    assert await rows(sessionmaker) == []


async def test_a_held_record_is_written_once_when_the_update_ends(sessionmaker):
    storage = DatabaseStorage(sessionmaker)
    key = StorageKey(bot_id=1, chat_id=5, user_id=5)
    await storage.set_data(key, {"n": 0})

    async with storage.hold(key):
        for n in range(1, 4):
            await storage.update_data(key, {"n": n})
        await storage.set_state(key, Memo.kept)
        assert await storage.get_data(key) == {"n": 3}
        assert [(s, d) for _, s, d in await rows(sessionmaker)] == [(None, {"n": 0})]  # not yet
        data = await storage.get_data(key)
        data["n"] = 99  # a copy: changing it changes nothing held
    await storage.idle()
    assert [(s, d) for _, s, d in await rows(sessionmaker)] == [("Memo:kept", {"n": 3})]


@pytest.mark.parametrize("backend", ["database", "redis"])
async def test_a_stop_lets_the_update_in_hand_finish_first(request, backend, sessionmaker):
    """The bot is stopped while an update is still being handled (its reply is out, its state not
    yet written): the update finishes, its state is kept and its chat is free at once after a restart."""
    replied, release = asyncio.Event(), asyncio.Event()

    async def slow(message: Message, state: FSMContext) -> None:
        await message.answer("working")
        replied.set()
        await release.wait()
        await state.set_state(Memo.kept)
        await state.update_data(memo="late")

    def with_slow(dp) -> None:
        configure(dp)
        dp.message.register(slow, Command("slow"))

    async with polling(request, backend, sessionmaker, with_slow) as (user, bot):
        try:
            await bot.start()
            await user.send("/slow")
            await asyncio.wait_for(replied.wait(), 5)
            stopping = asyncio.create_task(bot.stop())
            await asyncio.sleep(0.3)
            assert not stopping.done()  # waiting for the update in hand
            release.set()
            await asyncio.wait_for(stopping, 5)

            await bot.start()
            await user.send("/recall")
            # within a second: a chat lock left behind in Redis would hold this for its whole timeout
            await user.wait_for("state=Memo:kept memo=late", timeout=1.0)
        finally:
            release.set()  # before the bot is stopped, which waits for the update in hand
