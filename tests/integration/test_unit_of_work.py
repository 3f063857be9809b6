"""The unit of work itself: its repositories follow its transaction, and a reader holds back no writer."""

from __future__ import annotations

import asyncio

from jointcheck.core.uow import UnitOfWork


async def _user_names(sessionmaker) -> list[str]:
    async with UnitOfWork(sessionmaker) as uow:
        return sorted(user.display_name for user in [await uow.users.by_telegram_id(t) for t in (701, 702)] if user)


async def test_a_unit_entered_again_writes_through_its_new_transaction(sessionmaker):
    uow = UnitOfWork(sessionmaker)
    async with uow:
        assert await uow.users.by_telegram_id(701) is None

    async def again() -> None:  # the same object, a new transaction: its repositories must follow it
        async with uow:
            await uow.users.add(701, "甲")
            await uow.commit()

    # A repository left on the first transaction's session would write outside this one: the write
    # is lost, or (SQLite) waits for the lock this one holds.
    await asyncio.wait_for(again(), timeout=5)
    assert await _user_names(sessionmaker) == ["甲"]


async def test_a_reading_unit_holds_back_no_writer(sessionmaker):
    async def write(telegram_id: int, name: str) -> None:
        async with UnitOfWork(sessionmaker) as writer:
            await writer.users.add(telegram_id, name)
            await writer.commit()

    async with UnitOfWork(sessionmaker, read_only=True) as reader:
        assert await reader.users.by_telegram_id(702) is None
        # On SQLite a unit that took the write lock would keep this writer waiting until it ends.
        await asyncio.wait_for(write(702, "乙"), timeout=5)
    assert await _user_names(sessionmaker) == ["乙"]
