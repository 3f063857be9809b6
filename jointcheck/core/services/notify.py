"""Who hears about what: outbox rows for the people behind a department or an inspector record.

`dedupe` names the notice; each person's row gets a key made from it, which the database keeps
unique. A notice the scheduler raises again on every sweep passes `once=True`: whoever has it
queued already is skipped instead of failing the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from jointcheck.core.uow import UnitOfWork


async def _fresh(uow: UnitOfWork, keyed: list[tuple[str, int, int]], once: bool) -> list[tuple[str, int, int]]:
    if not once:
        return keyed
    queued = await uow.outbox.queued_keys([key for key, _, _ in keyed])
    return [entry for entry in keyed if entry[0] not in queued]


async def notify_departments(
    uow: UnitOfWork, department_ids: Iterable[int], template: str, params: dict, dedupe: str, *, once: bool = False
) -> int:
    """One message to every officer of these departments."""
    ids = list(department_ids)
    chats = await uow.users.officer_chats(ids) if ids else []
    keyed = await _fresh(uow, [(f"{dedupe}:u{user_id}", user_id, chat_id) for user_id, chat_id in chats], once)
    for key, _, chat_id in keyed:
        uow.outbox.add(chat_id, template, params, dedupe_key=key)
    return len(keyed)


async def notify_conveners(uow: UnitOfWork, region: str, template: str, params: dict, dedupe: str, *, once: bool = False) -> int:
    """One message to every convener whose jurisdiction covers this region."""
    chats = await uow.users.convener_chats(region)
    keyed = await _fresh(uow, [(f"{dedupe}:u{user_id}", user_id, chat_id) for user_id, chat_id in chats], once)
    for key, _, chat_id in keyed:
        uow.outbox.add(chat_id, template, params, dedupe_key=key)
    return len(keyed)


async def notify_inspectors(
    uow: UnitOfWork,
    inspector_ids: Iterable[int],
    template: str,
    params_of: Callable[[int], dict],
    dedupe: str,
    *,
    once: bool = False,
) -> int:
    """A private message to the account bound to each inspector record; `params_of(id)` fills it."""
    ids = list(inspector_ids)
    chats = await uow.users.inspector_chats(ids) if ids else []
    keyed = await _fresh(uow, [(f"{dedupe}:i{inspector_id}", inspector_id, chat_id) for inspector_id, chat_id in chats], once)
    for key, inspector_id, chat_id in keyed:
        uow.outbox.add(chat_id, template, params_of(inspector_id), dedupe_key=key)
    return len(keyed)
