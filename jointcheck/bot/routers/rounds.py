"""Round status: `/rounds` lists the rounds the user may see, `/round ID` (or its button) shows one.

What is visible is the core's decision (list_rounds, get_round): a round the user may not see
answers exactly as a round that does not exist (NotFound, explained by RefusalMiddleware). The
view of a round carries the convener's next step as a button (routers/convener.py decides which).
Long texts are split under Telegram's 4,096 characters (bot/long_text.py).
"""

from __future__ import annotations

import logging
from collections import defaultdict

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from jointcheck.bot.callbacks import RoundOpen
from jointcheck.bot.commands import spec_of
from jointcheck.bot.filters import HasRole
from jointcheck.bot.keyboards import button_label
from jointcheck.bot.long_text import chat_id_of, send_long
from jointcheck.bot.texts import N_, Texts
from jointcheck.core.authz import Actor
from jointcheck.core.models import Round
from jointcheck.core.services.rounds import get_round, list_rounds
from jointcheck.core.uow import UnitOfWork

log = logging.getLogger("jointcheck.bot")


ROUND_STATUS = {
    "proposed": N_("proposed, awaiting approval"),
    "approved": N_("approved, awaiting the seed"),
    "seeded": N_("seeded, awaiting the draw"),
    "drawn": N_("drawn, tasks assigned"),
}
PARTICIPANT_STATUS = {
    "lead": N_("lead department"),
    "invited": N_("invited, no answer yet"),
    "confirmed": N_("has joined"),
    "declined": N_("has declined"),
}


def create_router() -> Router:
    router = Router(name="rounds")
    viewers = HasRole(*spec_of("rounds").roles)
    router.message.register(show_rounds, Command("rounds"), viewers)
    router.message.register(show_round, Command("round"), viewers)
    router.callback_query.register(open_round, RoundOpen.filter())
    return router


# ---- helpers shared with routers/convener.py ---------------------------------------------------


def status_label(texts: Texts, status: str) -> str:
    return texts.gettext(ROUND_STATUS[status]) if status in ROUND_STATUS else status


def list_keyboard(rounds: list[Round]) -> InlineKeyboardMarkup | None:
    """One button per round, opening it; the callback carries the round id only."""
    if not rounds:
        return None
    builder = InlineKeyboardBuilder()
    for round_ in rounds:
        builder.button(text=button_label(f"{round_.id} · {round_.title}"), callback_data=RoundOpen(round_id=round_.id))
    builder.adjust(1)
    return builder.as_markup()


def list_entries(texts: Texts, rounds: list[Round]) -> list[dict]:
    return [{"id": r.id, "status": status_label(texts, r.status), "title": r.title} for r in rounds]


async def round_view(uow: UnitOfWork, actor: Actor, texts: Texts, round_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """The status text of a round the actor may see (NotFound otherwise) and the actor's next step."""
    from jointcheck.bot.routers.convener import next_step_keyboard  # the convener's buttons live there

    round_ = await get_round(uow, actor, round_id)
    lead = await uow.departments.by_id(round_.lead_department_id)
    items_of: dict[int, list[dict]] = defaultdict(list)
    items = await uow.rounds.items(round_.id)
    for item in items:
        items_of[item.department_id].append({"code": item.code, "name": item.name})
    participants = []
    for participant, department in await uow.rounds.participants(round_.id):
        status = "lead" if participant.is_lead else participant.status
        participants.append(
            {
                "name": department.name,
                "code": department.code,
                "team_size": participant.team_size,
                "status": texts.gettext(PARTICIPANT_STATUS[status]) if status in PARTICIPANT_STATUS else status,
                "chosen": items_of.get(department.id, []) if participant.status == "confirmed" else [],
            }
        )
    draw = await uow.rounds.draw_of(round_.id)
    text = texts.render(
        "rounds/detail.html",
        round_id=round_.id,
        title=round_.title,
        status=status_label(texts, round_.status),
        region=round_.region,
        lead=lead.name if lead else "",
        participants=participants,
        items=[{"code": i.code, "name": i.name} for i in items],
        commitment=draw.commitment if draw else "",
        seed=(draw.seed_digits or "") if draw else "",
        tasks=await uow.rounds.task_count(round_.id),
        due_date=round_.due_date.isoformat() if round_.due_date else "",
    )
    return text, next_step_keyboard(texts, actor, round_)


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


__all__ = ["create_router", "list_entries", "list_keyboard", "round_view", "status_label"]
