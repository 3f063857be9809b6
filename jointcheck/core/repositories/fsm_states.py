"""Dialogue state (the bot's multi-step conversations) by key, kept across restarts.

The key is a plain string: core knows nothing of the chat framework that builds it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from jointcheck.core.models import FsmState
from jointcheck.core.public_proof import canonical_json


@cache
def _state_of():
    # Read on every update the bot handles: built once, and the columns only, with no ORM object to
    # make, which `session.get` would (and which takes longer than the query itself).
    return select(FsmState.state, FsmState.data).where(FsmState.key == bindparam("key"))


class FsmStateRepository:
    def __init__(self, session: AsyncSession):
        self._session = session

    async def get(self, key: str) -> tuple[str | None, dict[str, Any]]:
        """The state and data of this key; no record reads as no state and no data."""
        row = (await self._session.execute(_state_of(), {"key": key})).first()
        return (None, {}) if row is None else (row.state, json.loads(row.data))

    async def put(self, key: str, state: str | None, data: Mapping[str, Any], now: dt.datetime) -> None:
        """Replace the record. A record with no state and no data is deleted, so the table holds only
        conversations in progress. One writer per key at a time is the caller's business (the bot's
        per-chat event isolation)."""
        row = await self._session.get(FsmState, key)
        if state is None and not data:
            if row is not None:
                await self._session.delete(row)
            return
        if row is None:
            row = FsmState(key=key)
            self._session.add(row)
        row.state, row.data, row.updated_at = state, canonical_json(dict(data)).decode("utf-8"), now
