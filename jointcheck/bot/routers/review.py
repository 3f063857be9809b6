"""An officer's side of results: `/review` (accept, or return with a reason) and `/publish`.

Buttons carry ids only; core authorizes each decision for the department named and refuses one
taken twice (Conflict), so a double tap or an old button changes nothing. The reason of a return
is the next message, kept in the FSM meanwhile.
"""

from __future__ import annotations

from functools import cache

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from jointcheck.bot.callbacks import PublishRound, ReviewDecide, ReviewOpen
from jointcheck.bot.dialogue import retry_on_typo
from jointcheck.bot.evidence import send_evidence
from jointcheck.bot.filters import HasRole
from jointcheck.bot.keyboards import button_label
from jointcheck.bot.long_text import chat_id_of, send_long, show
from jointcheck.bot.routers.tasks import task_text
from jointcheck.bot.texts import N_, Texts
from jointcheck.config import Settings
from jointcheck.core.authz import Actor
from jointcheck.core.clock import DOMAIN_TZ
from jointcheck.core.errors import Conflict, NotFound
from jointcheck.core.models import Role
from jointcheck.core.result_categories import FOLLOW_UPS
from jointcheck.core.services.departments import get_department
from jointcheck.core.services.evidence import evidence_to_review
from jointcheck.core.services.results import (
    HistoryEntry,
    awaiting_review,
    publish_results,
    publishable,
    result_history,
    review_results,
    submission_to_review,
    task_detail,
)
from jointcheck.core.uow import UnitOfWork

ACCEPT = N_("Accept")
ACCEPT_NOTE_PUBLIC = N_("Accept, note public")
RETURN = N_("Return")
PUBLISH = N_("Publish")
CANCEL = N_("Cancel")


class ReturnReason(StatesGroup):
    reason = State()  # data: review_task_id, review_department_id


@cache
def _site_url() -> str:
    return Settings().site_url.rstrip("/")


def public_round_url(round_id: int) -> str:
    """The round's page on the public site (JOINTCHECK_SITE_URL), or "" when no public URL is set."""
    base = _site_url()
    return f"{base}/rounds/{round_id}" if base else ""


def create_router() -> Router:
    router = Router(name="review")
    officers = HasRole(Role.OFFICER)
    router.message.register(show_queue, Command("review"), officers)
    router.message.register(show_publishable, Command("publish"), officers)
    router.message.register(cancel_return, Command("cancel"), StateFilter(ReturnReason.reason))
    router.message.register(reason_typed, StateFilter(ReturnReason.reason), F.text, ~F.text.startswith("/"))
    router.callback_query.register(open_submission, ReviewOpen.filter())
    router.callback_query.register(decide, ReviewDecide.filter())
    router.callback_query.register(publish, PublishRound.filter())
    return router


# ---- review -------------------------------------------------------------------------------------


async def show_queue(message: Message, uow: UnitOfWork, actor: Actor, texts: Texts) -> None:
    entries = await awaiting_review(uow, actor, limit=20)
    text = texts.render(
        "review/list.html",
        entries=[
            {
                "task_id": e.summary.task_id,
                "target": e.summary.target_name,
                "department": e.department_code,
                "count": e.submitted,
                "round": e.summary.round_title,
            }
            for e in entries
        ],
    )
    builder = InlineKeyboardBuilder()
    for e in entries:
        builder.button(
            text=button_label(f"{e.summary.task_id} · {e.department_code} · {e.summary.target_name}"),
            callback_data=ReviewOpen(task_id=e.summary.task_id, department_id=e.department_id),
        )
    builder.adjust(1)
    await send_long(message.bot, message.chat.id, text, builder.as_markup() if entries else None)


async def open_submission(query: CallbackQuery, callback_data: ReviewOpen, uow: UnitOfWork, actor: Actor, texts: Texts) -> None:
    department = await get_department(uow, callback_data.department_id)
    detail = await submission_to_review(uow, actor, callback_data.task_id, department)
    builder = InlineKeyboardBuilder()
    # Making the notes public is offered only where the department's submission has one.
    noted = any(i.note and i.department_code == department.code and i.status == "submitted" for i in detail.items)
    choices = ((ACCEPT, True, False), (ACCEPT_NOTE_PUBLIC, True, True), (RETURN, False, False))
    for label, accept, public in choices if noted else (choices[0], choices[2]):
        decision = ReviewDecide(task_id=callback_data.task_id, department_id=department.id, accept=accept, note_public=public)
        builder.button(text=texts.gettext(label), callback_data=decision)
    builder.adjust(2)
    evidence = await evidence_to_review(uow, actor, callback_data.task_id, department)
    history = await result_history(uow, actor, callback_data.task_id, department.id)
    await show(query, task_text(texts, detail) + "\n" + history_text(texts, history), builder.as_markup())
    await send_evidence(query.bot, chat_id_of(query), evidence)


def history_text(texts: Texts, history: list[HistoryEntry]) -> str:
    """Every finding, note and return so far, so a reviewer sees what a correction changed."""
    return texts.render(
        "review/history.html",
        entries=[
            {
                "at": e.at.astimezone(DOMAIN_TZ).strftime("%Y-%m-%d %H:%M"),
                "author": e.author,
                "code": e.item_code,
                "kind": e.kind,
                "category": e.category,
                "follow_up": texts.gettext(FOLLOW_UPS[e.follow_up]) if e.follow_up not in ("", "none") else "",
                "text": e.text,
            }
            for e in history
        ],
    )


async def decide(
    query: CallbackQuery,
    callback_data: ReviewDecide,
    uow: UnitOfWork,
    actor: Actor,
    texts: Texts,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    department = await get_department(uow, callback_data.department_id)
    if not callback_data.accept:
        await submission_to_review(uow, actor, callback_data.task_id, department)  # before asking for the reason
        await state.set_state(ReturnReason.reason)
        await state.update_data(review_task_id=callback_data.task_id, review_department_id=department.id)
        await query.bot.send_message(
            chat_id_of(query), texts.render("review/reason_prompt.html", department=department.name, task_id=callback_data.task_id)
        )
        return
    await review_results(uow, actor, callback_data.task_id, department.code, accept=True, note_public=callback_data.note_public)
    task = (await task_detail(uow, actor, callback_data.task_id)).summary
    await uow.commit()
    text = texts.render(
        "review/decided.html", accepted=True, department=department.name, task_id=task.task_id, completed=task.status == "completed"
    )
    await show(query, text)
    callback_answer.text = texts.gettext(ACCEPT)


async def cancel_return(message: Message, state: FSMContext, texts: Texts) -> None:
    await state.clear()
    await message.answer(texts.render("review/cancelled.html"))


async def reason_typed(message: Message, uow: UnitOfWork, actor: Actor, texts: Texts, state: FSMContext) -> None:
    data = await state.get_data()
    if "review_task_id" not in data:
        await state.clear()
        raise NotFound("no submission is waiting for a reason")
    department = await get_department(uow, int(data["review_department_id"]))
    async with retry_on_typo(state):
        await review_results(uow, actor, int(data["review_task_id"]), department.code, accept=False, reason=message.text or "")
    await uow.commit()
    await state.clear()
    await message.answer(
        texts.render(
            "review/decided.html", accepted=False, department=department.name, task_id=int(data["review_task_id"]), completed=False
        )
    )


# ---- publication --------------------------------------------------------------------------------


async def show_publishable(message: Message, uow: UnitOfWork, actor: Actor, texts: Texts) -> None:
    entries = await publishable(uow, actor)
    text = texts.render(
        "review/publish_list.html",
        entries=[
            {
                "round_id": e.round_id,
                "title": e.round_title,
                "department": e.department_code,
                "count": e.accepted,
            }
            for e in entries
        ],
    )
    builder = InlineKeyboardBuilder()
    for e in entries:
        builder.button(
            text=button_label(f"{texts.gettext(PUBLISH)} · {e.round_id} · {e.department_code} · {e.accepted}"),
            callback_data=PublishRound(round_id=e.round_id, department_id=e.department_id),
        )
    builder.adjust(1)
    await send_long(message.bot, message.chat.id, text, builder.as_markup() if entries else None)


async def publish(
    query: CallbackQuery, callback_data: PublishRound, uow: UnitOfWork, actor: Actor, texts: Texts, callback_answer: CallbackAnswer
) -> None:
    if callback_data.cancel:  # nothing to check: cancelling changes nothing
        await show(query, texts.render("review/publish_cancelled.html"))
        callback_answer.text = texts.gettext(CANCEL)
        return
    department = await get_department(uow, callback_data.department_id)
    if not callback_data.confirm:
        entry = next(
            (e for e in await publishable(uow, actor) if e.round_id == callback_data.round_id and e.department_id == department.id), None
        )
        if entry is None:
            raise Conflict(f"round {callback_data.round_id} has no accepted result of {department.code} left to publish")
        builder = InlineKeyboardBuilder()
        builder.button(
            text=texts.gettext(PUBLISH), callback_data=PublishRound(round_id=entry.round_id, department_id=department.id, confirm=True)
        )
        builder.button(
            text=texts.gettext(CANCEL), callback_data=PublishRound(round_id=entry.round_id, department_id=department.id, cancel=True)
        )
        builder.adjust(2)
        await show(
            query,
            texts.render(
                "review/publish_confirm.html",
                count=entry.accepted,
                department=department.name,
                title=entry.round_title,
                round_id=entry.round_id,
            ),
            builder.as_markup(),
        )
        return
    count = await publish_results(uow, actor, callback_data.round_id, department.code)
    await uow.commit()
    await show(
        query,
        texts.render(
            "review/published.html",
            count=count,
            department=department.name,
            round_id=callback_data.round_id,
            url=public_round_url(callback_data.round_id),
        ),
    )
    callback_answer.text = texts.gettext(PUBLISH)


__all__ = ["create_router"]
