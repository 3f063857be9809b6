"""What users set for themselves."""

from __future__ import annotations

from jointcheck.core.authz import Actor
from jointcheck.core.errors import InvalidInput
from jointcheck.core.models import User
from jointcheck.core.uow import UnitOfWork
from jointcheck.i18n import LANGUAGES


async def set_language(uow: UnitOfWork, actor: Actor, telegram_id: int, display_name: str, language: str) -> User:
    """The language everything is said in to this Telegram user. Someone not bound yet is
    remembered too, so that the bot speaks their language from their invite code on."""
    if language not in LANGUAGES:
        raise InvalidInput(f"{language!r} is not a language of jointcheck ({', '.join(LANGUAGES)})")
    user = await uow.users.by_telegram_id(telegram_id)
    if user is None:
        user = await uow.users.add(telegram_id, display_name, language)
    elif user.language == language:
        return user  # pressed again: nothing changes, nothing to audit
    else:
        user.language = language
    await uow.audit.record(actor, "user.language", "user", user.id, {"language": language})
    return user
