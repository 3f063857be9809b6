"""Who is acting, and what users set for themselves."""

from __future__ import annotations

from jointcheck.core import limits
from jointcheck.core.authz import Actor
from jointcheck.core.errors import InvalidInput, NotFound
from jointcheck.core.models import RoleGrant, User
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


async def actor_of_user(uow: UnitOfWork, user_id: int) -> Actor:
    """The user with this id (a console user acting through the CLI's --as), with their roles."""
    user = await uow.session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return await actor_of(uow, user)


async def grant_scope(uow: UnitOfWork, grant: RoleGrant) -> str:
    """What a grant covers, in words for its holder: a department's name, an inspector record, a region code."""
    if grant.department_id is not None:
        department = await uow.departments.by_id(grant.department_id)
        return department.name if department else ""
    if grant.inspector_id is not None:
        inspector = await uow.inspectors.by_id(grant.inspector_id)
        return f"{inspector.name} {inspector.cert_no}" if inspector else ""
    return grant.region or ""
