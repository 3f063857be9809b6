"""The convener's steps of a round: Approve, Enter seed (the digits as the next message), Draw now.

The buttons appear on a round's view (bot/round_views.py) for the step the round is at, to a
convener whose region covers it, and carry the round id only. Core authorizes every step and
refuses a step taken twice (Conflict): a double tap runs once, the second press is answered
politely by RefusalMiddleware. The notifications of each step (commitment, seed, draw summary,
tasks) are queued by core in the outbox, in the same transaction.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from jointcheck.bot.callbacks import RoundApprove, RoundDrawNow, RoundScheduleAsk, RoundSeedAsk
from jointcheck.bot.dialogue import retry_on_typo
from jointcheck.bot.filters import HasRole
from jointcheck.bot.long_text import chat_id_of, send_long
from jointcheck.bot.round_views import APPROVE, DRAW_NOW, list_entries, list_keyboard, next_step_keyboard
from jointcheck.bot.texts import Texts
from jointcheck.core.authz import Actor
from jointcheck.core.clock import DOMAIN_TZ
from jointcheck.core.errors import NotFound
from jointcheck.core.models import Role
from jointcheck.core.services.draw import run_draw
from jointcheck.core.services.rounds import (
    approve_round,
    enter_seed,
    get_round,
    list_rounds,
    open_draw_schedule,
    open_seed_entry,
    parse_draw_at,
    schedule_draw,
)
from jointcheck.core.uow import UnitOfWork

log = logging.getLogger("jointcheck.bot")

_PENDING = ("proposed", "approved", "seeded")


class SeedEntry(StatesGroup):
    digits = State()  # data: round_id


class DrawTimeEntry(StatesGroup):
    when = State()  # data: schedule_round_id


def create_router() -> Router:
    router = Router(name="convener")
    router.message.register(show_pending, Command("pending"), HasRole(Role.CONVENER))
    router.message.register(cancel_seed, Command("cancel"), StateFilter(SeedEntry.digits))
    router.message.register(seed_typed, StateFilter(SeedEntry.digits), F.text, ~F.text.startswith("/"))
    router.message.register(cancel_seed, Command("cancel"), StateFilter(DrawTimeEntry.when))
    router.message.register(draw_time_typed, StateFilter(DrawTimeEntry.when), F.text, ~F.text.startswith("/"))
    router.callback_query.register(approve, RoundApprove.filter())
    router.callback_query.register(ask_seed, RoundSeedAsk.filter())
    router.callback_query.register(draw_now, RoundDrawNow.filter())
    router.callback_query.register(ask_draw_time, RoundScheduleAsk.filter())
    return router


async def _drop_buttons(query: CallbackQuery) -> None:
    """The pressed step is done: its message keeps its text and loses its buttons."""
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        await query.message.edit_reply_markup(reply_markup=None)


# ---- handlers ----------------------------------------------------------------------------------


async def show_pending(message: Message, uow: UnitOfWork, actor: Actor, texts: Texts) -> None:
    rounds = []
    for status in _PENDING:
        rounds += await list_rounds(uow, actor, status=status)
    rounds.sort(key=lambda r: r.id)
    text = texts.render("convener/pending.html", rounds=list_entries(texts, rounds))
    await send_long(message.bot, message.chat.id, text, list_keyboard(rounds))


async def approve(
    query: CallbackQuery, callback_data: RoundApprove, uow: UnitOfWork, actor: Actor, texts: Texts, callback_answer: CallbackAnswer
) -> None:
    report = await approve_round(uow, actor, callback_data.round_id)
    round_ = await get_round(uow, actor, report.round_id)
    await uow.commit()
    text = texts.render(
        "convener/approved.html",
        round_id=round_.id,
        title=round_.title,
        commitment=report.commitment,
        population=report.population,
        expected_tasks=report.expected_tasks,
        warnings=[
            {"department": w.department, "pool": w.pool, "team_size": w.team_size, "targets": w.targets, "certain": w.certain}
            for w in report.warnings
        ],
    )
    await _drop_buttons(query)
    await send_long(query.bot, chat_id_of(query), text, next_step_keyboard(texts, actor, round_))
    callback_answer.text = texts.gettext(APPROVE)


async def ask_seed(
    query: CallbackQuery, callback_data: RoundSeedAsk, uow: UnitOfWork, actor: Actor, texts: Texts, state: FSMContext
) -> None:
    """The checks of enter_seed, made before asking for the digits: nothing is written here."""
    round_, _ = await open_seed_entry(uow, actor, callback_data.round_id)
    await state.set_state(SeedEntry.digits)
    await state.update_data(seed_round_id=round_.id)
    await query.bot.send_message(chat_id_of(query), texts.render("convener/seed_prompt.html", round_id=round_.id, title=round_.title))


async def cancel_seed(message: Message, state: FSMContext, texts: Texts) -> None:
    await state.clear()
    await message.answer(texts.render("convener/seed_cancelled.html"))


async def seed_typed(message: Message, uow: UnitOfWork, actor: Actor, texts: Texts, state: FSMContext) -> None:
    round_id = (await state.get_data()).get("seed_round_id")
    if round_id is None:
        await state.clear()
        raise NotFound("no round is waiting for its seed")
    async with retry_on_typo(state):
        material = await enter_seed(uow, actor, int(round_id), message.text or "")
    round_ = await get_round(uow, actor, int(round_id))
    await uow.commit()
    await state.clear()
    text = texts.render("convener/seeded.html", round_id=round_.id, title=round_.title, digits=material.split(";", 1)[0], seed=material)
    await send_long(message.bot, message.chat.id, text, next_step_keyboard(texts, actor, round_))


async def draw_now(
    query: CallbackQuery, callback_data: RoundDrawNow, uow: UnitOfWork, actor: Actor, texts: Texts, callback_answer: CallbackAnswer
) -> None:
    report = await run_draw(uow, actor, callback_data.round_id)
    round_ = await get_round(uow, actor, report.round_id)
    await uow.commit()
    text = texts.render(
        "convener/drawn.html",
        round_id=round_.id,
        title=round_.title,
        selected=report.selected,
        assignments=report.assignments,
        unstaffed=len(report.unstaffed),
        selected_sha256=report.selected_sha256,
    )
    await _drop_buttons(query)
    await send_long(query.bot, chat_id_of(query), text)
    callback_answer.text = texts.gettext(DRAW_NOW)


async def ask_draw_time(
    query: CallbackQuery, callback_data: RoundScheduleAsk, uow: UnitOfWork, actor: Actor, texts: Texts, state: FSMContext
) -> None:
    """The checks of schedule_draw, made before asking for the time: nothing is written here."""
    round_ = await open_draw_schedule(uow, actor, callback_data.round_id)
    await state.set_state(DrawTimeEntry.when)
    await state.update_data(schedule_round_id=round_.id)
    await query.bot.send_message(chat_id_of(query), texts.render("convener/draw_time_prompt.html", round_id=round_.id, title=round_.title))


async def draw_time_typed(message: Message, uow: UnitOfWork, actor: Actor, texts: Texts, state: FSMContext) -> None:
    round_id = (await state.get_data()).get("schedule_round_id")
    if round_id is None:
        await state.clear()
        raise NotFound("no round is waiting for its draw time")
    async with retry_on_typo(state):
        round_ = await schedule_draw(uow, actor, int(round_id), parse_draw_at(message.text, DOMAIN_TZ))
    await uow.commit()
    await state.clear()
    text = texts.render(
        "convener/draw_time_set.html",
        round_id=round_.id,
        title=round_.title,
        draw_at=round_.draw_at.astimezone(DOMAIN_TZ).strftime("%Y-%m-%d %H:%M"),
        seeded=round_.status == "seeded",
    )
    await send_long(message.bot, message.chat.id, text, next_step_keyboard(texts, actor, round_))


__all__ = ["DrawTimeEntry", "SeedEntry", "create_router"]
