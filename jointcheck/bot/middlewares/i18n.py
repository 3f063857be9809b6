"""The language of an update: `lang`, `texts`, `_` and `render` in handler data.

The user's stored choice (/lang) wins; otherwise the Telegram client's language, with any zh*
(zh-hans, zh-TW, zh-CN...) mapped to zh_CN. aiogram's SimpleI18nMiddleware cannot be used: it
looks the client's code up verbatim and misses Chinese (aiogram issue #1896).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from aiogram.types import User as TelegramUser

from jointcheck.bot.texts import Texts
from jointcheck.core.models import User
from jointcheck.i18n import LANGUAGES, normalize_language


def language_of(user: User | None, telegram_user: TelegramUser | None) -> str:
    if user is not None and user.language in LANGUAGES:
        return user.language
    return normalize_language(telegram_user.language_code if telegram_user else None)


class I18nMiddleware(BaseMiddleware):
    """Outer middleware on updates, after DatabaseMiddleware (it reads `user`)."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        texts = Texts(language_of(data.get("user"), data.get("event_from_user")))
        data["lang"], data["texts"], data["_"], data["render"] = texts.language, texts, texts.gettext, texts.render
        return await handler(event, data)
