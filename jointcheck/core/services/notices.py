"""What a notice shows, read when it is sent: the facts an outbox row's template names by id (a
round's title, a department's name, the recipient's tasks), looked up for the chat it goes to.

Core queued the row for that chat (services/notify.py) in the transaction that changed the state;
these reads show the recipient what that row is about, and no more.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from jointcheck.core.authz import Actor
from jointcheck.core.models import Department, Round
from jointcheck.core.services.users import account_of_chat
from jointcheck.core.uow import UnitOfWork


@dataclass(frozen=True)
class NoticeTask:
    """One of the recipient's tasks, as a notice lists it."""

    id: int
    target: str
    code: str
    address: str
    items: list[str]  # "code name" of every item checked on the visit
    team: list[str]  # the other inspectors, "name (department)"
    due_date: dt.date | None


async def chat_language(uow: UnitOfWork, chat_id: int) -> str | None:
    """The language the user of this chat chose (None when unknown)."""
    return await uow.users.language_of_chat(chat_id)


async def round_heading(uow: UnitOfWork, round_id: int) -> tuple[Round | None, str]:
    """The round a notice is about and its lead department's name."""
    round_ = await uow.rounds.get(round_id)
    lead = await uow.departments.by_id(round_.lead_department_id) if round_ else None
    return round_, lead.name if lead else ""


async def department_name(uow: UnitOfWork, code: str) -> str:
    """A department's name for a notice naming it by code (the code itself when it has gone)."""
    department = await uow.departments.by_code(code)
    return department.name if department else code


async def _recipient(uow: UnitOfWork, chat_id: int) -> Actor:
    """Who the chat belongs to, with their grants (a stranger has none)."""
    found = await account_of_chat(uow, chat_id)
    return found[1] if found is not None else Actor(label=f"tg:{chat_id}")


async def tasks_of_chat(uow: UnitOfWork, chat_id: int, round_id: int, limit: int) -> list[NoticeTask]:
    """The recipient's first tasks in the round (per inspector record, in visit order) with target,
    address, items, co-inspectors and due date."""
    mine = (await _recipient(uow, chat_id)).inspector_ids()
    tasks = [pair for inspector_id in mine for pair in await uow.tasks.in_round_of_inspector(round_id, inspector_id, limit)]
    items = [f"{item.code} {item.name}" for item, _ in await uow.tasks.items(round_id)]
    teams: dict[int, list[str]] = {}
    for member, inspector, department in await uow.tasks.team([task.id for task, _ in tasks]):
        if inspector.id not in mine:
            teams.setdefault(member.task_id, []).append(f"{inspector.name} ({department.name})")
    return [
        NoticeTask(task.id, target.name, target.code, target.address, items, teams.get(task.id, []), task.due_date)
        for task, target in tasks
    ]


async def open_invitations_of_chat(uow: UnitOfWork, chat_id: int, round_id: int) -> list[Department]:
    """The recipient's departments (as officer) still invited to the round, without an answer."""
    mine = (await _recipient(uow, chat_id)).department_ids()
    return [d for p, d in await uow.rounds.participants(round_id) if d.id in mine and not p.is_lead and p.status == "invited"]
