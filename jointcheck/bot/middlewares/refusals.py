"""Core refusals become a polite, translated answer; the unit of work is rolled back first.

Inner middleware on messages and callback queries, registered after aiogram's
CallbackAnswerMiddleware so that, for a button, the refusal becomes the text of the one answer
that middleware always sends (every callback is answered, even when a handler fails). How a
refusal reads is bot/reasons.py's.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject

from jointcheck.bot.reasons import explain
from jointcheck.core.errors import JointcheckError

log = logging.getLogger("jointcheck.bot")


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
