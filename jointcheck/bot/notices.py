"""What an outbox row says: its template rendered in the recipient's language, with what the
template shows looked up read-only at sending time (core/services/notices.py: a round's title, a
department's name, the recipient's tasks), and the buttons that go with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram.types import InlineKeyboardMarkup

from jointcheck.bot.round_views import invitation_keyboard
from jointcheck.bot.texts import Texts
from jointcheck.core.services.notices import chat_language, department_name, open_invitations_of_chat, round_heading, tasks_of_chat
from jointcheck.core.uow import UnitOfWork
from jointcheck.i18n import DEFAULT_LANGUAGE, LANGUAGES

# A task notice lists this many of the recipient's tasks; /tasks pages through all of them, so a
# notice stays a few messages long.
NOTICE_TASKS = 30


@dataclass(frozen=True)
class Rendered:
    text: str
    reply_markup: InlineKeyboardMarkup | None = None


async def render_notice(uow: UnitOfWork, chat_id: int, template: str, params: dict[str, Any]) -> Rendered:
    """The message of one outbox row for the user whose Telegram id is `chat_id` (zh_CN when unknown)."""
    language = await chat_language(uow, chat_id)
    texts = Texts(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    context = dict(params)
    round_ = None
    if "round_id" in params:
        round_, context["lead"] = await round_heading(uow, int(params["round_id"]))
        context["title"] = round_.title if round_ else ""
    if "department" in params:
        context["department_name"] = await department_name(uow, str(params["department"]))
    if template == "tasks_assigned" and round_ is not None:
        context["task_list"] = [
            {
                "id": task.id,
                "target": task.target,
                "code": task.code,
                "address": task.address,
                "item_names": task.items,
                "team": task.team,
                "due_date": task.due_date.isoformat() if task.due_date else "",
            }
            for task in await tasks_of_chat(uow, chat_id, round_.id, NOTICE_TASKS)
        ]
    markup = None
    if template == "round_invitation" and round_ is not None and round_.status == "proposed":
        markup = invitation_keyboard(texts, round_.id, await open_invitations_of_chat(uow, chat_id, round_.id))
    return Rendered(texts.render(f"outbox/{template}.html", **context), markup)
