"""What an outbox row says: its template rendered in the recipient's language, with what the
template shows looked up read-only at sending time (a round's title, a department's name, the
recipient's tasks), and the buttons that go with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram.types import InlineKeyboardMarkup

from jointcheck.bot.routers.invitations import invitation_keyboard
from jointcheck.bot.texts import Texts
from jointcheck.core.authz import Actor
from jointcheck.core.models import Department
from jointcheck.core.uow import UnitOfWork
from jointcheck.i18n import DEFAULT_LANGUAGE, LANGUAGES

NOTICE_TASKS = 30


@dataclass(frozen=True)
class Rendered:
    text: str
    reply_markup: InlineKeyboardMarkup | None = None


async def render_notice(uow: UnitOfWork, chat_id: int, template: str, params: dict[str, Any]) -> Rendered:
    """The message of one outbox row for the user whose Telegram id is `chat_id` (zh_CN when unknown)."""
    language = await uow.users.language_of_chat(chat_id)
    texts = Texts(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    context = dict(params)
    round_ = None
    if "round_id" in params:
        round_ = await uow.rounds.get(int(params["round_id"]))
        lead = await uow.departments.by_id(round_.lead_department_id) if round_ else None
        context["title"] = round_.title if round_ else ""
        context["lead"] = lead.name if lead else ""
    if "department" in params:
        department = await uow.departments.by_code(str(params["department"]))
        context["department_name"] = department.name if department else str(params["department"])
    if template == "tasks_assigned" and round_ is not None:
        context["task_list"] = await _task_list(uow, chat_id, round_.id)
    markup = None
    if template == "round_invitation" and round_ is not None and round_.status == "proposed":
        markup = invitation_keyboard(texts, round_.id, await _open_departments(uow, chat_id, round_.id))
    return Rendered(texts.render(f"outbox/{template}.html", **context), markup)


async def _recipient(uow: UnitOfWork, chat_id: int) -> Actor:
    """Who the chat belongs to, with their grants (a stranger has none)."""
    found = await uow.users.with_actor(chat_id)
    return found[1] if found is not None else Actor(label=f"tg:{chat_id}")


async def _task_list(uow: UnitOfWork, chat_id: int, round_id: int) -> list[dict]:
    """The recipient's first tasks in the round with target, address, items, co-inspectors and due
    date; /tasks pages through all of them, so a notice stays a few messages long."""
    mine = (await _recipient(uow, chat_id)).inspector_ids()
    tasks = [pair for inspector_id in mine for pair in await uow.tasks.in_round_of_inspector(round_id, inspector_id, NOTICE_TASKS)]
    items = [f"{item.code} {item.name}" for item, _ in await uow.tasks.items(round_id)]
    teams: dict[int, list[str]] = {}
    for member, inspector, department in await uow.tasks.team([task.id for task, _ in tasks]):
        if inspector.id not in mine:
            teams.setdefault(member.task_id, []).append(f"{inspector.name} ({department.name})")
    return [
        {
            "id": task.id,
            "target": target.name,
            "code": target.code,
            "address": target.address,
            "item_names": items,
            "team": teams.get(task.id, []),
            "due_date": task.due_date.isoformat() if task.due_date else "",
        }
        for task, target in tasks
    ]


async def _open_departments(uow: UnitOfWork, chat_id: int, round_id: int) -> list[Department]:
    """The recipient's departments (as officer) still invited to the round, without an answer."""
    mine = (await _recipient(uow, chat_id)).department_ids()
    return [d for p, d in await uow.rounds.participants(round_id) if d.id in mine and not p.is_lead and p.status == "invited"]
