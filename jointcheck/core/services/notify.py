"""Who hears about what: outbox rows for the people behind a department or an inspector record."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from jointcheck.core.uow import UnitOfWork


async def notify_departments(uow: UnitOfWork, department_ids: Iterable[int], template: str, params: dict, dedupe: str) -> int:
    """One message to every officer of these departments; `dedupe` makes a repeat a no-op per person."""
    ids = list(department_ids)
    chats = await uow.users.officer_chats(ids) if ids else []
    for user_id, chat_id in chats:
        uow.outbox.add(chat_id, template, params, dedupe_key=f"{dedupe}:u{user_id}")
    return len(chats)


async def notify_inspectors(
    uow: UnitOfWork, inspector_ids: Iterable[int], template: str, params_of: Callable[[int], dict], dedupe: str
) -> int:
    """A private message to the account bound to each inspector record; `params_of(id)` fills it."""
    ids = list(inspector_ids)
    chats = await uow.users.inspector_chats(ids) if ids else []
    for inspector_id, chat_id in chats:
        uow.outbox.add(chat_id, template, params_of(inspector_id), dedupe_key=f"{dedupe}:i{inspector_id}")
    return len(chats)
