"""Exactly one scheduler per deployment.

On PostgreSQL the leader is whoever holds a session-level advisory lock, on a connection kept for
the purpose: when the leader's process dies its connection closes, the lock goes with it and
another process takes over within `retry_seconds`. On SQLite there is one process by design.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger("jointcheck.scheduler")

# "jcsched" in ASCII: a key no other advisory lock of the project uses.
LOCK_KEY = 0x6A637363686564


class Leadership:
    def __init__(self, engine: AsyncEngine, *, retry_seconds: float = 5.0) -> None:
        self._engine = engine
        self._retry = retry_seconds
        self._connection: AsyncConnection | None = None

    @property
    def _postgres(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    async def acquire(self) -> None:
        """Wait until this process leads."""
        if not self._postgres:
            return
        while True:
            try:
                connection = await self._engine.connect()
                taken = (await connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY})).scalar_one()
                await connection.commit()  # the lock is the session's: it outlives this transaction
            except Exception as error:  # the database is away: try again later
                log.warning("leader election: %s", error)
                taken, connection = False, None
            if taken:
                self._connection = connection
                log.warning("this process leads the scheduler")
                return
            if connection is not None:
                await connection.close()
            await asyncio.sleep(self._retry)

    async def lost(self) -> None:
        """Return when leadership is lost (the lock's connection broke); never on SQLite."""
        if not self._postgres:
            await asyncio.Event().wait()
        while True:
            await asyncio.sleep(self._retry)
            try:
                await self._connection.execute(text("SELECT 1"))
                await self._connection.commit()
            except Exception as error:
                log.warning("scheduler leadership lost: %s", error)
                await self._close()
                return

    async def release(self) -> None:
        """Give the lock back. A connection left unusable (a stop that came in the middle of a
        check) is invalidated instead: its session ends on the server, and the lock with it."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
            await connection.commit()
            await connection.close()
        except Exception as error:
            log.info("leader lock released by dropping its connection: %s", error)
            await connection.invalidate()

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.close()
            except Exception:  # a broken connection cannot be closed politely
                await connection.invalidate()
