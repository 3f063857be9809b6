"""Who is acting, what users set for themselves, and how the operator finds them."""

from __future__ import annotations

from dataclasses import dataclass

from jointcheck.core import limits
from jointcheck.core.authz import Action, Actor, authorize
from jointcheck.core.errors import Conflict, InvalidInput, NotFound
from jointcheck.core.models import RoleGrant, User
from jointcheck.core.regions import region_label
from jointcheck.core.uow import UnitOfWork
from jointcheck.i18n import LANGUAGES


async def set_language(uow: UnitOfWork, actor: Actor, telegram_id: int, display_name: str, language: str) -> User:
    """The language everything is said in to this Telegram user. Someone not bound yet is
    remembered too, so that the bot speaks their language from their invite code on."""
    if language not in LANGUAGES:
        raise InvalidInput(f"{language!r} is not a language of jointcheck ({', '.join(LANGUAGES)})")
    display_name = limits.bounded(display_name, limits.DISPLAY_NAME, "the name")
    user = await uow.users.by_telegram_id(telegram_id)
    if user is None:
        user = await uow.users.add(telegram_id, display_name, language)
    elif user.language == language:
        return user  # pressed again: nothing changes, nothing to audit
    else:
        user.language = language
    if actor.grants:
        # Someone who holds no role changes nothing but how the bot speaks to them: auditing it
        # would let any stranger grow the chain by pressing a button over and over.
        await uow.audit.record(actor, "user.language", "user", user.id, {"language": language})
    return user


async def account_of_chat(uow: UnitOfWork, telegram_id: int) -> tuple[User, Actor] | None:
    """The user bound to this Telegram account and their Actor (None for a stranger): asked on every update."""
    return await uow.users.with_actor(telegram_id)


async def actor_of(uow: UnitOfWork, user: User) -> Actor:
    """The user with the roles they hold now."""
    return await uow.users.actor_for(user)


async def grant_scope(uow: UnitOfWork, grant: RoleGrant) -> str:
    """What a grant covers, in words for its holder: a department's name, an inspector record, a
    region by name with its code."""
    if grant.department_id is not None:
        department = await uow.departments.by_id(grant.department_id)
        return department.name if department else ""
    if grant.inspector_id is not None:
        inspector = await uow.inspectors.by_id(grant.inspector_id)
        return f"{inspector.name} {inspector.cert_no}" if inspector else ""
    return region_label(grant.region) if grant.region else ""


@dataclass(frozen=True)
class UserEntry:
    user_id: int
    name: str
    telegram_username: str | None
    has_telegram: bool
    roles: list[str]  # "officer SAMR", "convener 440100", "inspector SAMR-00", "admin"


async def list_users(uow: UnitOfWork, actor: Actor, *, offset: int = 0, limit: int = 100) -> list[UserEntry]:
    """The accounts with their live roles, a page at a time: what the operator picks --as from."""
    authorize(actor, Action.USERS_VIEW)
    entries = []
    for user, grants in await uow.users.with_grants(max(offset, 0), max(1, min(limit, 1000))):
        roles = [" ".join(filter(None, (g.role, department, g.region, cert))) for g, department, cert in grants]
        entries.append(UserEntry(user.id, user.display_name, user.telegram_username, user.telegram_id is not None, roles))
    return entries


async def find_user(uow: UnitOfWork, actor: Actor, who: str) -> User:
    """The one user whose id, Telegram @username or name is `who`; a name two people share is
    refused with both ids, so the operator can say which."""
    authorize(actor, Action.USERS_VIEW)
    who = who.strip()
    found = await uow.users.matching(who)
    if who.isdigit():  # an id wins over a name made of digits
        found = [u for u in found if u.id == int(who)] or found
    if not found:
        raise NotFound(f"no user with the id, Telegram username or name {who!r} (see `jointcheck admin users`)")
    if len(found) > 1:
        ids = ", ".join(f"{u.id} ({u.display_name})" for u in found)
        raise Conflict(f"{who!r} names several users: {ids}; use the id")
    return found[0]
