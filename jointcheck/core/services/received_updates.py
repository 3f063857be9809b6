"""Updates from the chat platform, recorded as they arrive until handled (bot/middlewares/updates.py):
none lost to a crash, none handled twice. The payload is opaque text to core."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from jointcheck.core.repositories.received_updates import Arrival
from jointcheck.core.uow import UnitOfWork

# Telegram delivers an update again for 24 hours at most: a day more of received ids is plenty.
KEEP = dt.timedelta(days=2)

__all__ = ["KEEP", "Arrival", "HandledMark", "arrive", "finish", "forget_old", "unfinished"]


@dataclass
class HandledMark:
    """The "handled" mark an update still owes: written by the first commit of the update's unit of
    work (UnitOfWork.mark_handled_at_commit), in the same transaction as the handler's change, so
    a crash cannot keep the one and lose the other; `done` once that commit has happened."""

    update_id: int
    done: bool = False


async def arrive(uow: UnitOfWork, update_id: int, payload: str) -> Arrival:
    """Record an update as it arrives; whether to handle it (NEW, UNFINISHED) or skip it (HANDLED)."""
    return await uow.received_updates.arrive(update_id, payload, uow.clock())


async def finish(uow: UnitOfWork, update_id: int) -> None:
    await uow.received_updates.finish(update_id, uow.clock())


async def unfinished(uow: UnitOfWork) -> list[tuple[int, str]]:
    """(update id, payload) of the updates a crash cut off, oldest first."""
    return await uow.received_updates.unfinished()


async def forget_old(uow: UnitOfWork) -> int:
    """Forget the updates received more than KEEP ago; how many."""
    return await uow.received_updates.prune(uow.clock() - KEEP)
