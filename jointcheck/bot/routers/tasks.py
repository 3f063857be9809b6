"""An inspector's tasks: `/tasks`, a task's view, a category per item, a note and photos or
documents, a review-and-submit step.

Buttons carry ids only. Core decides everything: who may see a task (others get "not found"),
which items the inspector records (their own department's), whether a result may still change (a
button pressed after the submission, or twice, is refused as a Conflict and changes nothing).
The item a note or attachment belongs to is kept in the FSM while the inspector sends them.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from jointcheck.bot.callbacks import ItemOpen, NoteAsk, ResultPick, TaskOpen, TasksPage, TaskSubmit
from jointcheck.bot.dialogue import retry_on_typo
from jointcheck.bot.evidence import keep
from jointcheck.bot.filters import HasRole
from jointcheck.bot.keyboards import button_label
from jointcheck.bot.long_text import chat_id_of, send_long, show
from jointcheck.bot.texts import N_, Texts
from jointcheck.core.authz import Actor
from jointcheck.core.errors import Conflict, InvalidInput, NotFound
from jointcheck.core.models import Role
from jointcheck.core.result_categories import CATEGORIES, FOLLOW_UPS, NO_PROBLEM
from jointcheck.core.services.results import (
    EDITABLE,
    ItemResult,
    TaskDetail,
    add_note,
    attach,
    list_my_tasks,
    record_result,
    submit_and_detail,
    task_detail,
)
from jointcheck.core.uow import UnitOfWork

PAGE = 8

RESULT_STATUS = {
    "none": N_("not recorded"),
    "draft": N_("draft"),
    "submitted": N_("submitted, awaiting review"),
    "returned": N_("returned"),
    "accepted": N_("accepted"),
    "published": N_("published"),
}
SUBMIT = N_("Submit")
BACK = N_("Back")
ALL_TASKS = N_("All tasks")
NOTE = N_("Note, photos, documents")
NEXT, PREVIOUS = "»", "«"


class ResultInput(StatesGroup):
    attachments = State()  # data: task_id, item_id


def create_router() -> Router:
    router = Router(name="tasks")
    router.message.register(show_tasks, Command("tasks"), HasRole(Role.INSPECTOR))
    router.message.register(finish_input, Command("done", "cancel"), StateFilter(ResultInput.attachments))
    router.message.register(note_typed, StateFilter(ResultInput.attachments), F.text, ~F.text.startswith("/"))
    router.message.register(file_sent, StateFilter(ResultInput.attachments), F.photo | F.document)
    router.callback_query.register(page, TasksPage.filter())
    router.callback_query.register(open_task, TaskOpen.filter())
    router.callback_query.register(open_item, ItemOpen.filter())
    router.callback_query.register(pick, ResultPick.filter())
    router.callback_query.register(ask_note, NoteAsk.filter())
    router.callback_query.register(submit, TaskSubmit.filter())
    return router


# ---- views shared with routers/review.py ---------------------------------------------------------


def item_entries(texts: Texts, items: list[ItemResult]) -> list[dict]:
    return [
        {
            "code": i.item_code,
            "name": i.item_name,
            "department": i.department_code,
            "category": i.category,
            "follow_up": texts.gettext(FOLLOW_UPS[i.follow_up]) if i.follow_up != "none" else "",
            "note": i.note,
            "attachments": i.attachments,
            "reason": i.review_reason,
            "status": texts.gettext(RESULT_STATUS.get(i.status, i.status)),
            "mine": i.mine,
        }
        for i in items
    ]


def task_text(texts: Texts, detail: TaskDetail) -> str:
    s = detail.summary
    return texts.render(
        "tasks/detail.html",
        task_id=s.task_id,
        round_id=s.round_id,
        round_title=s.round_title,
        target_name=s.target_name,
        target_code=s.target_code,
        address=s.address,
        due_date=s.due_date.isoformat() if s.due_date else "",
        visit=s.visit_order + 1,
        batch=s.batch,
        team=[{"name": m.name, "department": m.department_name, "by_hand": m.source != "draw"} for m in detail.team],
        items=item_entries(texts, detail.items),
    )


def task_keyboard(texts: Texts, detail: TaskDetail) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    task_id = detail.summary.task_id
    for item in detail.editable_items():
        mark = "✎" if item.status == "none" else "☑"
        builder.button(
            text=button_label(f"{mark} {item.item_code} {item.item_name}"), callback_data=ItemOpen(task_id=task_id, item_id=item.item_id)
        )
    if detail.ready_to_submit():
        builder.button(text=texts.gettext(SUBMIT), callback_data=TaskSubmit(task_id=task_id))
    builder.button(text=texts.gettext(ALL_TASKS), callback_data=TasksPage(offset=0))
    builder.adjust(1)
    return builder.as_markup()


async def _task_view(uow: UnitOfWork, actor: Actor, texts: Texts, task_id: int) -> tuple[str, InlineKeyboardMarkup]:
    detail = await task_detail(uow, actor, task_id)
    return task_text(texts, detail), task_keyboard(texts, detail)


def _editable(detail: TaskDetail, item_id: int) -> ItemResult:
    """The viewer's item, while its result may still change (core checks again when it is written)."""
    item = next((i for i in detail.items if i.item_id == item_id and i.mine), None)
    if item is None:
        raise NotFound(f"item {item_id} is not yours to record on task {detail.summary.task_id}")
    if item.status not in ("none", *EDITABLE):
        raise Conflict(f"the result of {item.item_code} is {item.status}; it cannot change now")
    return item


# ---- the list ------------------------------------------------------------------------------------


async def _list(uow: UnitOfWork, actor: Actor, texts: Texts, offset: int) -> tuple[str, InlineKeyboardMarkup | None]:
    tasks, total = await list_my_tasks(uow, actor, offset=offset, limit=PAGE)
    text = texts.render(
        "tasks/list.html",
        total=total,
        first=offset + 1,
        last=offset + len(tasks),
        tasks=[
            {
                "id": t.task_id,
                "target": t.target_name,
                "code": t.target_code,
                "round": t.round_title,
                "due_date": t.due_date.isoformat() if t.due_date else "",
            }
            for t in tasks
        ],
    )
    if not tasks:
        return text, None
    builder = InlineKeyboardBuilder()
    for t in tasks:
        builder.button(text=button_label(f"{t.task_id} · {t.target_name}"), callback_data=TaskOpen(task_id=t.task_id))
    paging = []
    if offset > 0:
        paging.append((PREVIOUS, max(0, offset - PAGE)))
    if offset + len(tasks) < total:
        paging.append((NEXT, offset + PAGE))
    for label, to in paging:
        builder.button(text=label, callback_data=TasksPage(offset=to))
    builder.adjust(*([1] * len(tasks)), len(paging) or 1)
    return text, builder.as_markup()


async def show_tasks(message: Message, uow: UnitOfWork, actor: Actor, texts: Texts) -> None:
    text, markup = await _list(uow, actor, texts, 0)
    await send_long(message.bot, message.chat.id, text, markup)


async def page(query: CallbackQuery, callback_data: TasksPage, uow: UnitOfWork, actor: Actor, texts: Texts) -> None:
    text, markup = await _list(uow, actor, texts, max(0, callback_data.offset))
    await show(query, text, markup)


# ---- one task ------------------------------------------------------------------------------------


async def open_task(query: CallbackQuery, callback_data: TaskOpen, uow: UnitOfWork, actor: Actor, texts: Texts) -> None:
    await show(query, *await _task_view(uow, actor, texts, callback_data.task_id))


async def open_item(query: CallbackQuery, callback_data: ItemOpen, uow: UnitOfWork, actor: Actor, texts: Texts) -> None:
    detail = await task_detail(uow, actor, callback_data.task_id)
    item = _editable(detail, callback_data.item_id)
    builder = InlineKeyboardBuilder()
    for code, label in CATEGORIES.items():
        mark = "☑ " if item.category == code else ""
        builder.button(
            text=button_label(f"{mark}{code} · {texts.gettext(label)}"),
            callback_data=ResultPick(task_id=callback_data.task_id, item_id=item.item_id, category=code),
        )
    if item.status != "none":
        builder.button(text=texts.gettext(NOTE), callback_data=NoteAsk(task_id=callback_data.task_id, item_id=item.item_id))
    builder.button(text=texts.gettext(BACK), callback_data=TaskOpen(task_id=callback_data.task_id))
    builder.adjust(1)
    text = texts.render("tasks/item.html", task_id=callback_data.task_id, item=item_entries(texts, [item])[0])
    await show(query, text, builder.as_markup())


async def pick(
    query: CallbackQuery, callback_data: ResultPick, uow: UnitOfWork, actor: Actor, texts: Texts, callback_answer: CallbackAnswer
) -> None:
    data = callback_data
    if data.category not in NO_PROBLEM and data.category in CATEGORIES and not data.follow_up:
        detail = await task_detail(uow, actor, data.task_id)
        item = _editable(detail, data.item_id)
        builder = InlineKeyboardBuilder()
        for code, label in FOLLOW_UPS.items():
            builder.button(
                text=texts.gettext(label),
                callback_data=ResultPick(task_id=data.task_id, item_id=data.item_id, category=data.category, follow_up=code),
            )
        builder.button(text=texts.gettext(BACK), callback_data=ItemOpen(task_id=data.task_id, item_id=data.item_id))
        builder.adjust(1)
        text = texts.render("tasks/follow_up.html", task_id=data.task_id, code=item.item_code, name=item.item_name, category=data.category)
        await show(query, text, builder.as_markup())
        return
    await record_result(uow, actor, data.task_id, data.item_id, data.category, data.follow_up or "none")
    await uow.commit()
    await show(query, *await _task_view(uow, actor, texts, data.task_id))
    callback_answer.text = texts.render("tasks/saved.txt")


async def ask_note(query: CallbackQuery, callback_data: NoteAsk, uow: UnitOfWork, actor: Actor, texts: Texts, state: FSMContext) -> None:
    detail = await task_detail(uow, actor, callback_data.task_id)
    item = _editable(detail, callback_data.item_id)
    if item.status == "none":
        raise InvalidInput(f"choose the category of {item.item_code} first")
    await state.set_state(ResultInput.attachments)
    await state.update_data(result_task_id=callback_data.task_id, result_item_id=item.item_id)
    await query.bot.send_message(chat_id_of(query), texts.render("tasks/note_prompt.html", code=item.item_code, name=item.item_name))


async def _input_target(state: FSMContext) -> tuple[int, int]:
    data = await state.get_data()
    if "result_task_id" not in data:
        await state.clear()
        raise NotFound("no result is waiting for a note")
    return int(data["result_task_id"]), int(data["result_item_id"])


async def note_typed(message: Message, uow: UnitOfWork, actor: Actor, texts: Texts, state: FSMContext) -> None:
    task_id, item_id = await _input_target(state)
    async with retry_on_typo(state):
        await add_note(uow, actor, task_id, item_id, message.text or "")
    await uow.commit()
    await message.answer(texts.render("tasks/note_saved.html"))


async def file_sent(message: Message, uow: UnitOfWork, actor: Actor, texts: Texts, state: FSMContext) -> None:
    task_id, item_id = await _input_target(state)
    if message.photo:
        kind, file_id, name = "photo", message.photo[-1].file_id, ""
    else:
        kind, file_id, name = "document", message.document.file_id, message.document.file_name or ""
    sha256, size = await keep(message.bot, file_id)
    async with retry_on_typo(state):
        await attach(uow, actor, task_id, item_id, kind, file_id, name, sha256=sha256, size=size)
        if message.caption:
            await add_note(uow, actor, task_id, item_id, message.caption)
    await uow.commit()
    await message.answer(texts.render("tasks/attached.html", kind=kind))


async def finish_input(message: Message, uow: UnitOfWork, actor: Actor, texts: Texts, state: FSMContext) -> None:
    task_id, _ = await _input_target(state)
    await state.clear()
    text, markup = await _task_view(uow, actor, texts, task_id)
    await send_long(message.bot, message.chat.id, text, markup)


async def submit(
    query: CallbackQuery, callback_data: TaskSubmit, uow: UnitOfWork, actor: Actor, texts: Texts, callback_answer: CallbackAnswer
) -> None:
    if not callback_data.confirm:
        detail = await task_detail(uow, actor, callback_data.task_id)
        mine = [i for i in detail.items if i.mine]
        if not detail.ready_to_submit():
            missing = [i.item_code for i in mine if i.status == "none"]
            raise InvalidInput("choose a category first for: " + ", ".join(missing) if missing else "nothing to submit")
        builder = InlineKeyboardBuilder()
        builder.button(text=texts.gettext(SUBMIT), callback_data=TaskSubmit(task_id=callback_data.task_id, confirm=True))
        builder.button(text=texts.gettext(BACK), callback_data=TaskOpen(task_id=callback_data.task_id))
        builder.adjust(2)
        text = texts.render(
            "tasks/submit_confirm.html",
            task_id=callback_data.task_id,
            target_name=detail.summary.target_name,
            items=item_entries(texts, mine),
        )
        await show(query, text, builder.as_markup())
        return
    _, detail = await submit_and_detail(uow, actor, callback_data.task_id)
    await uow.commit()
    await show(query, task_text(texts, detail), task_keyboard(texts, detail))
    callback_answer.text = texts.gettext(SUBMIT)
