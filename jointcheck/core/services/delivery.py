"""The outbox's sending side: which rows may go now, and how each one ends (claimed, sent, put back
for later, given up). The sender (scheduler/sender.py) talks to Telegram; every change of a row goes
through here, each a compare-and-set on the status the sender expects, so two senders never both
settle one row."""

from __future__ import annotations

import datetime as dt

from jointcheck.core.models import OutboxMessage
from jointcheck.core.services.notify import notify_departments
from jointcheck.core.uow import UnitOfWork

UNREACHABLE = "recipient_unreachable"  # the notice to officers that one of their inspectors cannot be reached


async def requeue_in_flight(uow: UnitOfWork, note: str) -> list[int]:
    """Rows a stopped sender left `sending`: to go again, marked with `note`; their ids."""
    return await uow.outbox.requeue_in_flight(note)


async def sendable(uow: UnitOfWork, limit: int) -> list[OutboxMessage]:
    """At most `limit` rows that may go now, the oldest of each chat."""
    return await uow.outbox.heads(uow.clock(), limit)


async def claim(uow: UnitOfWork, message_id: int, status: str) -> bool:
    return await uow.outbox.claim(message_id, status)


async def release(uow: UnitOfWork, message_id: int, status: str) -> bool:
    """Undo a claim: nothing went out."""
    return await uow.outbox.release(message_id, status)


async def mark_sent(uow: UnitOfWork, message_id: int, telegram_message_id: int) -> bool:
    return await uow.outbox.mark_sent(message_id, telegram_message_id, uow.clock())


async def retry_later(uow: UnitOfWork, message_id: int, status: str, delay: dt.timedelta, reason: str) -> bool:
    return await uow.outbox.defer(message_id, status, uow.clock() + delay, reason)


async def mark_undeliverable(uow: UnitOfWork, message_id: int, reason: str) -> bool:
    return await uow.outbox.mark_undeliverable(message_id, reason)


async def part_sent(uow: UnitOfWork, message_id: int, parts: int) -> bool:
    """The first `parts` parts of a claimed notice too long for one message are delivered."""
    return await uow.outbox.part_sent(message_id, parts)


async def give_up(uow: UnitOfWork, message_id: int, chat_id: int, template: str, reason: str, *, cause: str, notice: str) -> bool:
    """The row cannot be delivered: marked so, with the reason; False when someone else settled it
    first. Whatever the cause (`blocked`: the person blocked the bot; `no_chat`: they never opened
    it; `refused`: Telegram or the template refused the message itself), the officers answering for
    the recipient's inspector records hear of it, with `notice` (the first line of what failed to go)."""
    if not await uow.outbox.mark_undeliverable(message_id, reason):
        return False
    # Not for a notice of this kind: telling the officer that telling the officer failed would never end.
    inspectors = await uow.users.inspectors_of_chat(chat_id) if template != UNREACHABLE else []
    if inspectors:
        params = {"recipient": "、".join(name for name, _ in inspectors), "outbox_id": message_id, "cause": cause, "notice": notice}
        departments = sorted({department for _, department in inspectors})
        await notify_departments(uow, departments, UNREACHABLE, params, dedupe=f"{UNREACHABLE}:{message_id}")
    return True
