"""FSM state in the database (the fsm_states table): a wizard survives a restart without Redis.

The embedded default of one bot process, on SQLite or PostgreSQL; several workers share Redis
instead (app._fsm_backend).

On SQLite every unit of work takes the write lock with its first statement (core/db.py), and an
update's own unit of work stays open while its handler runs: a second unit of work opened by the
storage in the middle of a handler would wait for the first one, which waits for the handler.
So, for the chat an update belongs to, `HeldRecordMiddleware` reads the record before the
update's unit of work opens and writes it back, if changed, after that unit of work has closed;
in between, the handler reads and changes a copy in memory. This relies on the dispatcher's
events isolation (create_dispatcher's default): one update of a chat at a time, so the next update
of the chat reads what this one wrote. Calls for any other key read or write the table in a unit of
work of their own. A reply goes out a moment before its record is written back: a crash in that
moment leaves the conversation a step behind; a graceful stop waits for the write (`close`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from aiogram.types import TelegramObject
from sqlalchemy.ext.asyncio import async_sessionmaker

from jointcheck.core.clock import Clock
from jointcheck.core.services.dialogues import load_dialogue, save_dialogue
from jointcheck.core.uow import UnitOfWork


def flat_key(key: StorageKey) -> str:
    """Every field of aiogram's key in a fixed place (empty when absent), so no two keys meet."""
    parts = (key.bot_id, key.chat_id, key.user_id, key.thread_id, key.business_connection_id, key.destiny)
    return ":".join("" if part is None else str(part) for part in parts)


def _as_stored(data: Mapping[str, Any]) -> dict[str, Any]:
    """The data as the table gives it back: a JSON round trip, so a value JSON cannot hold fails
    where it is set, not after the handler, and a held copy behaves like a stored one."""
    if not isinstance(data, dict):
        raise DataNotDictLikeError(f"Data must be a dict or dict-like object, got {type(data).__name__}")
    return json.loads(json.dumps(data, ensure_ascii=False))


@dataclass
class _Record:
    state: str | None
    data: dict[str, Any]
    changed: bool = False


class DatabaseStorage(BaseStorage):
    """aiogram's storage interface on the fsm_states table, through core's repository."""

    def __init__(self, sessionmaker: async_sessionmaker, clock: Clock | None = None) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._held: dict[StorageKey, _Record] = {}
        # aiogram's FSM middleware reads the state just before HeldRecordMiddleware holds the
        # record; the hold of the same update (same task) takes that read instead of a second one.
        self._read_ahead: dict[StorageKey, tuple[asyncio.Task | None, _Record]] = {}
        self._holding = 0  # records held or being written back
        self._idle = asyncio.Event()
        self._idle.set()

    def _unit(self, *, read_only: bool = False) -> UnitOfWork:
        return UnitOfWork(self._sessionmaker, self._clock, read_only=read_only)

    async def _load(self, key: StorageKey) -> _Record:
        async with self._unit(read_only=True) as uow:
            return _Record(*await load_dialogue(uow, flat_key(key)))

    async def _save(self, key: StorageKey, record: _Record) -> None:
        async with self._unit() as uow:
            await save_dialogue(uow, flat_key(key), record.state, record.data)
            await uow.commit()

    async def _update(self, key: StorageKey, change: Callable[[_Record], None]) -> None:
        record = self._held.get(key)
        if record is not None:
            change(record)
            record.changed = True
            return
        async with self._unit() as uow:  # read and write in one transaction
            record = _Record(*await load_dialogue(uow, flat_key(key)))
            change(record)
            await save_dialogue(uow, flat_key(key), record.state, record.data)
            await uow.commit()

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state

        def change(record: _Record) -> None:
            record.state = value

        await self._update(key, change)

    async def get_state(self, key: StorageKey) -> str | None:
        record = self._held.get(key)
        if record is None:
            record = await self._load(key)
            self._read_ahead[key] = (asyncio.current_task(), record)
        return record.state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        stored = _as_stored(data)

        def change(record: _Record) -> None:
            record.data = stored

        await self._update(key, change)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        record = self._held.get(key)
        return _as_stored(record.data) if record is not None else (await self._load(key)).data

    @asynccontextmanager
    async def hold(self, key: StorageKey) -> AsyncIterator[None]:
        """Keep this key's record in memory for the block; write it back at the end if it changed
        (also when the block fails: other storages keep what a failing handler wrote, too)."""
        if key in self._held:  # an inner block of the same update
            yield
            return
        self._holding += 1
        self._idle.clear()
        try:
            task, record = self._read_ahead.pop(key, (None, None))
            if record is None or task is not asyncio.current_task():
                record = await self._load(key)
            self._held[key] = record
            try:
                yield
            finally:
                del self._held[key]
                if record.changed:
                    await self._save(key, record)
        finally:
            self._holding -= 1
            if not self._holding:
                self._idle.set()

    async def idle(self) -> None:
        """Wait until no record is held: every change made so far is in the table. A reply goes out
        before its update's record is written back, so whoever reads the table right after a reply
        (or stops the bot) waits for this first."""
        await self._idle.wait()

    async def close(self) -> None:
        """The dispatcher's shutdown: updates still in flight write their records back first. The
        engine itself belongs to whoever made the sessionmaker."""
        await self.idle()


class HeldRecordMiddleware(BaseMiddleware):
    """Outer middleware on updates, registered before DatabaseMiddleware (see the module's text)."""

    def __init__(self, storage: DatabaseStorage) -> None:
        self._storage = storage

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        context: FSMContext | None = data.get("state")
        if context is None:  # an update with no chat or user has no conversation
            return await handler(event, data)
        async with self._storage.hold(context.key):
            return await handler(event, data)
