"""Round status: `/rounds` lists the rounds the user may see, `/round ID` (or its button) shows one.

What is visible is the core's decision (list_rounds, round_detail): a round the user may not see
answers exactly as a round that does not exist (NotFound, explained by RefusalMiddleware). The
view of a round carries the convener's next step as a button (bot/round_views.py decides which).
Long texts are split under Telegram's 4,096 characters (bot/long_text.py).
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from jointcheck.bot.callbacks import RoundOpen
from jointcheck.bot.commands import spec_of
from jointcheck.bot.filters import HasRole
from jointcheck.bot.long_text import chat_id_of, send_long
from jointcheck.bot.round_views import list_entries, list_keyboard, next_step_keyboard, round_text
from jointcheck.bot.texts import Texts
from jointcheck.core.authz import Actor
from jointcheck.core.services.rounds import list_rounds, round_detail
from jointcheck.core.uow import UnitOfWork

log = logging.getLogger("jointcheck.bot")


def create_router() -> Router:
    router = Router(name="rounds")
    viewers = HasRole(*spec_of("rounds").roles)
    router.message.register(show_rounds, Command("rounds"), viewers)
    router.message.register(show_round, Command("round"), viewers)
    router.callback_query.register(open_round, RoundOpen.filter())
    return router


async def round_view(uow: UnitOfWork, actor: Actor, texts: Texts, round_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """The status text of a round the actor may see (NotFound otherwise) and the actor's next step."""
    detail = await round_detail(uow, actor, round_id)
    return round_text(texts, detail), next_step_keyboard(texts, actor, detail.round)


# ---- handlers ----------------------------------------------------------------------------------


async def show_rounds(message: Message, uow: UnitOfWork, actor: Actor, texts: Texts) -> None:
    rounds = await list_rounds(uow, actor)
    text = texts.render("rounds/list.html", rounds=list_entries(texts, rounds))
    await send_long(message.bot, message.chat.id, text, list_keyboard(rounds))


async def show_round(message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor, texts: Texts) -> None:
    argument = (command.args or "").strip().lstrip("#")
    if not argument.isascii() or not argument.isdigit() or len(argument) > 12:
        await message.answer(texts.render("rounds/usage.html"))
        return
    text, markup = await round_view(uow, actor, texts, int(argument))
    await send_long(message.bot, message.chat.id, text, markup)


async def open_round(query: CallbackQuery, callback_data: RoundOpen, uow: UnitOfWork, actor: Actor, texts: Texts) -> None:
    text, markup = await round_view(uow, actor, texts, callback_data.round_id)
    await send_long(query.bot, chat_id_of(query), text, markup)


__all__ = ["create_router", "round_view"]
