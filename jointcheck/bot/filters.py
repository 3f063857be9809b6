"""Filters for routers: who may reach a handler at all (core still authorizes every service call)."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, TelegramObject

from jointcheck.core.authz import Actor
from jointcheck.core.models import Role


class HasRole(Filter):
    """Passes when the acting user holds any of the roles: `HasRole(Role.OFFICER)`."""

    def __init__(self, *roles: Role) -> None:
        if not roles:
            raise ValueError("HasRole needs at least one role")
        self.roles = frozenset(roles)

    async def __call__(self, event: TelegramObject, actor: Actor | None = None) -> bool:
        return actor is not None and any(actor.has_role(role) for role in self.roles)


class IsBound(Filter):
    """Passes when the acting user holds any role at all."""

    async def __call__(self, event: TelegramObject, actor: Actor | None = None) -> bool:
        return actor is not None and bool(actor.grants)


class OwnButton(Filter):
    """After a CallbackData filter with an `owner` field: passes only when the presser is the owner."""

    async def __call__(self, query: CallbackQuery, callback_data=None) -> bool:
        owner = getattr(callback_data, "owner", None)
        return owner is not None and query.from_user is not None and owner == query.from_user.id
