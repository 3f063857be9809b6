"""Core refusals become a polite, translated answer; the unit of work is rolled back first.

Inner middleware on messages and callback queries, registered after aiogram's
CallbackAnswerMiddleware so that, for a button, the refusal becomes the text of the one answer
that middleware always sends (every callback is answered, even when a handler fails).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject

from jointcheck.core.errors import Conflict, InvalidInput, JointcheckError, NotFound, PermissionDenied

log = logging.getLogger("jointcheck.bot")

_KINDS: tuple[tuple[type[JointcheckError], str], ...] = (
    (PermissionDenied, "denied"),
    (NotFound, "not_found"),
    (Conflict, "conflict"),
    (InvalidInput, "invalid"),
)


def error_kind(error: JointcheckError) -> str:
    return next((kind for cls, kind in _KINDS if isinstance(error, cls)), "other")


# Reasons errors/reason.txt explains in the reader's language, from the error's code and params
# (plain text, as core's own message is: the template that shows it escapes it once).
TRANSLATED_REASONS = frozenset({"ratio.above_cap", "department.unknown", "scope.region_outside"})


def reason(error: JointcheckError, texts, *, english_otherwise: bool = False) -> str:
    """The error's reason in the reader's language where its code has a translation. Otherwise
    core's English message: for an English reader, or when the reader must know what to change
    (`english_otherwise`); else nothing, and the translated kind speaks alone."""
    if error.code in TRANSLATED_REASONS:
        return texts.render("errors/reason.txt", code=error.code, **error.params)
    return str(error) if english_otherwise or texts.language == "en" else ""


def explain(error: JointcheckError, texts, template: str) -> str:
    return texts.render(template, kind=error_kind(error), detail=reason(error, texts))


class RefusalMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            return await handler(event, data)
        except JointcheckError as error:
            uow = data.get("uow")
            if uow is not None:
                await uow.rollback()
            actor = data.get("actor")
            log.info("refused %s for %s: %s", type(event).__name__, actor.label if actor else "?", error)
            texts = data["texts"]
            if isinstance(event, CallbackQuery):
                text = explain(error, texts, "errors/core_error.txt")
                answer = data.get("callback_answer")
                if answer is not None and not answer.answered and not answer.disabled:
                    answer.text, answer.show_alert = text, True
                else:
                    await event.answer(text, show_alert=True)
            elif isinstance(event, Message):
                await event.answer(explain(error, texts, "errors/core_error.html"))
            return None
