"""Where a person is in a multi-step conversation with the bot (a wizard, a typed answer awaited),
kept across restarts. Only the chat adapter's storage reads and writes it, by the key it builds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jointcheck.core.uow import UnitOfWork


async def load_dialogue(uow: UnitOfWork, key: str) -> tuple[str | None, dict[str, Any]]:
    """The state and data of this key; none kept reads as no state and no data."""
    return await uow.fsm_states.get(key)


async def save_dialogue(uow: UnitOfWork, key: str, state: str | None, data: Mapping[str, Any]) -> None:
    """Replace what is kept for this key; no state and no data forgets it."""
    await uow.fsm_states.put(key, state, data, uow.clock())
