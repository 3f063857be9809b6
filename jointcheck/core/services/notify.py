"""Who hears about what: outbox rows for the people behind a department or an inspector record."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from jointcheck.core.models import Role, RoleGrant, User
from jointcheck.core.uow import UnitOfWork


async def _chats(uow: UnitOfWork, condition) -> list[tuple[int, int]]:
    query = (
        select(User.id, User.telegram_id).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(condition, RoleGrant.revoked_at.is_(None), User.telegram_id.is_not(None))
        .distinct().order_by(User.id)
    )
    return [(u, t) for u, t in await uow.session.execute(query)]


async def notify_departments(uow: UnitOfWork, department_ids: Iterable[int], template: str, params: dict, dedupe: str) -> int:
    """One message to every officer of these departments; `dedupe` makes a repeat a no-op per person."""
    ids = list(department_ids)
    if not ids:
        return 0
    chats = await _chats(uow, (RoleGrant.role == Role.OFFICER.value) & RoleGrant.department_id.in_(ids))
    for user_id, chat_id in chats:
        uow.outbox.add(chat_id, template, params, dedupe_key=f"{dedupe}:u{user_id}")
    return len(chats)


async def notify_inspectors(uow: UnitOfWork, inspector_ids: Iterable[int], template: str, params_of, dedupe: str) -> int:
    """A private message to the account bound to each inspector record; `params_of(id)` fills it."""
    ids = list(inspector_ids)
    if not ids:
        return 0
    query = (
        select(RoleGrant.inspector_id, User.id, User.telegram_id).join(User, User.id == RoleGrant.user_id)
        .where(RoleGrant.role == Role.INSPECTOR.value, RoleGrant.inspector_id.in_(ids), RoleGrant.revoked_at.is_(None), User.telegram_id.is_not(None))
    )
    sent = 0
    for inspector_id, user_id, chat_id in await uow.session.execute(query):
        uow.outbox.add(chat_id, template, params_of(inspector_id), dedupe_key=f"{dedupe}:i{inspector_id}")
        sent += 1
    return sent
