"""The last router: whatever no feature router took.

Every callback query is answered: a press no handler accepted (forged data, an old or foreign
button, another user's button) gets a short refusal, changes nothing and is logged. Commands in
the catalogue without a handler yet, or not for the user's roles, and unknown commands are
explained in private chats; groups are left alone.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from jointcheck.bot.commands import spec_of
from jointcheck.bot.texts import Texts
from jointcheck.core.authz import Actor

log = logging.getLogger("jointcheck.bot")


def create_router() -> Router:
    router = Router(name="fallback")
    router.callback_query.register(refuse_press)
    router.message.register(explain_text, F.chat.type == "private", F.text)
    return router


async def refuse_press(query: CallbackQuery, actor: Actor, texts: Texts, callback_answer: CallbackAnswer) -> None:
    log.warning(
        "refused button press %r by %s (tg:%s) on message %s",
        query.data,
        actor.label,
        query.from_user.id,
        query.message.message_id if query.message else None,
    )
    callback_answer.text = texts.render("errors/button_refused.txt")


async def explain_text(message: Message, actor: Actor, texts: Texts) -> None:
    text = message.text or ""
    if not text.startswith("/"):
        reason = "text"
    else:
        name = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower()
        spec = spec_of(name)
        reason = "unknown" if spec is None else ("not_yet" if spec.allowed(actor) else "not_allowed")
    await message.answer(texts.render("fallback/unhandled.html", reason=reason))
