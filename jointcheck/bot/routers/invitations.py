"""Round invitations: Decline, or Join with a checklist of the department's own items and Confirm.

The invitation itself comes from the outbox (bot/notices.py gives it `invitation_keyboard` of
bot/round_views.py). Buttons carry ids only; the items chosen so far live in the FSM storage
of the pressing user, keyed by round and department. Core refuses a replayed button (the round
or the department's answer moved on: Conflict) and a button pressed by someone of another
department (PermissionDenied / NotFound); RefusalMiddleware turns those into the callback's
answer, and nothing is edited.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer

from jointcheck.bot.callbacks import ChecklistConfirm, ChecklistToggle, InvitationAnswer
from jointcheck.bot.keyboards import checklist_markup
from jointcheck.bot.long_text import show
from jointcheck.bot.round_views import DECLINE
from jointcheck.bot.texts import N_, Texts
from jointcheck.core.authz import Actor
from jointcheck.core.errors import NotFound
from jointcheck.core.models import CheckItem, Department, Round
from jointcheck.core.services.departments import current_items, get_department
from jointcheck.core.services.rounds import open_invitation, respond_to_round
from jointcheck.core.uow import UnitOfWork

log = logging.getLogger("jointcheck.bot")

CONFIRM = N_("Confirm")
_FSM_KEY = "checklists"


def create_router() -> Router:
    router = Router(name="invitations")
    router.callback_query.register(decline, InvitationAnswer.filter(F.action == "decline"))
    router.callback_query.register(join, InvitationAnswer.filter(F.action == "join"))
    router.callback_query.register(toggle, ChecklistToggle.filter())
    router.callback_query.register(confirm, ChecklistConfirm.filter())
    return router


# ---- keyboards ---------------------------------------------------------------------------------


def checklist_keyboard(texts: Texts, round_id: int, department_id: int, items: list[CheckItem], chosen: set[int]) -> InlineKeyboardMarkup:
    options = [
        (f"{item.code} {item.name}", item.id in chosen, ChecklistToggle(round_id=round_id, department_id=department_id, item_id=item.id))
        for item in items
    ]
    return checklist_markup(options, [(texts.gettext(CONFIRM), ChecklistConfirm(round_id=round_id, department_id=department_id))])


# ---- checks ------------------------------------------------------------------------------------


async def _open_invitation(uow: UnitOfWork, actor: Actor, round_id: int, department_id: int) -> tuple[Round, Department]:
    """The round and department, when this actor may still answer (checked by the core, before the
    checklist is shown; nothing is written here)."""
    department = await get_department(uow, department_id)
    round_, department, _ = await open_invitation(uow, actor, round_id, department.code)
    return round_, department


def _key(round_id: int, department_id: int) -> str:
    return f"{round_id}:{department_id}"


async def _chosen(state: FSMContext, round_id: int, department_id: int) -> set[int]:
    data = await state.get_data()
    return set(data.get(_FSM_KEY, {}).get(_key(round_id, department_id), []))


async def _remember(state: FSMContext, round_id: int, department_id: int, chosen: set[int] | None) -> None:
    data = await state.get_data()
    checklists = dict(data.get(_FSM_KEY, {}))
    if chosen is None:
        checklists.pop(_key(round_id, department_id), None)
    else:
        checklists[_key(round_id, department_id)] = sorted(chosen)
    await state.update_data({_FSM_KEY: checklists})


# ---- handlers ----------------------------------------------------------------------------------


async def decline(
    query: CallbackQuery,
    callback_data: InvitationAnswer,
    uow: UnitOfWork,
    actor: Actor,
    texts: Texts,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    round_, department = await _open_invitation(uow, actor, callback_data.round_id, callback_data.department_id)
    await respond_to_round(uow, actor, round_.id, department.code, accept=False)
    await uow.commit()
    await _remember(state, callback_data.round_id, department.id, None)
    text = texts.render("invitations/declined.html", round_id=round_.id, title=round_.title, department=department.name)
    await show(query, text)
    callback_answer.text = texts.gettext(DECLINE)


async def join(
    query: CallbackQuery, callback_data: InvitationAnswer, uow: UnitOfWork, actor: Actor, texts: Texts, state: FSMContext
) -> None:
    round_, department = await _open_invitation(uow, actor, callback_data.round_id, callback_data.department_id)
    items = await current_items(uow, actor, department.id)
    chosen = await _chosen(state, round_.id, department.id)
    chosen &= {item.id for item in items}
    await _remember(state, round_.id, department.id, chosen)
    text = texts.render("invitations/checklist.html", round_id=round_.id, title=round_.title, department=department.name)
    await show(query, text, checklist_keyboard(texts, round_.id, department.id, items, chosen))


async def toggle(
    query: CallbackQuery, callback_data: ChecklistToggle, uow: UnitOfWork, actor: Actor, texts: Texts, state: FSMContext
) -> None:
    round_, department = await _open_invitation(uow, actor, callback_data.round_id, callback_data.department_id)
    items = await current_items(uow, actor, department.id)
    if callback_data.item_id not in {item.id for item in items}:
        raise NotFound(f"item {callback_data.item_id} is not a current item of {department.code}")
    chosen = await _chosen(state, round_.id, department.id)
    chosen ^= {callback_data.item_id}
    await _remember(state, round_.id, department.id, chosen)
    markup = checklist_keyboard(texts, round_.id, department.id, items, chosen)
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=markup)
    elif query.message is not None:
        text = texts.render("invitations/checklist.html", round_id=round_.id, title=round_.title, department=department.name)
        await query.bot.send_message(query.message.chat.id, text, reply_markup=markup)


async def confirm(
    query: CallbackQuery,
    callback_data: ChecklistConfirm,
    uow: UnitOfWork,
    actor: Actor,
    texts: Texts,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    round_, department = await _open_invitation(uow, actor, callback_data.round_id, callback_data.department_id)
    items = await current_items(uow, actor, department.id)
    chosen = await _chosen(state, round_.id, department.id)
    picked = [item for item in items if item.id in chosen]
    if not picked:
        callback_answer.text = texts.render("invitations/choose_first.txt")
        return
    await respond_to_round(uow, actor, round_.id, department.code, accept=True, items=tuple(i.code for i in picked))
    await uow.commit()
    await _remember(state, round_.id, department.id, None)
    text = texts.render(
        "invitations/confirmed.html",
        round_id=round_.id,
        title=round_.title,
        department=department.name,
        items=[{"code": i.code, "name": i.name} for i in picked],
    )
    await show(query, text)
    callback_answer.text = texts.gettext(CONFIRM)
