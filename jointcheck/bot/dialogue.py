"""A dialogue that waits for the user's next message (a seed, a draw time, a reason, a note)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram.fsm.context import FSMContext

from jointcheck.core.errors import InvalidInput


@asynccontextmanager
async def retry_on_typo(state: FSMContext) -> AsyncIterator[None]:
    """Around the service call a typed answer feeds: input refused as invalid keeps the dialogue
    so the user can type again (or /cancel); any other refusal (the subject moved on, or is not
    this user's) ends it. The refusal itself goes on to RefusalMiddleware either way."""
    try:
        yield
    except InvalidInput:
        raise
    except Exception:
        await state.clear()
        raise
