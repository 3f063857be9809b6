"""Results (SPEC capability 6): 谁检查、谁录入、谁公开 — who inspects records, who records publishes.

An inspector on a task's team records a category per item of their own department's items (a
draft, with an optional note and photos or documents), then submits the department's results for
the task; the team sees the submission. An officer of that department accepts or returns them
(with a reason), and publishes the accepted results of a round. A task is completed when every item
of its round has an accepted result; its completion starts the target's cooling-off and the
publication deadline.

To anyone not entitled to see a task, the task answers as one that does not exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from jointcheck.core import limits
from jointcheck.core.authz import Action, Actor, Scope, authorize, can
from jointcheck.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from jointcheck.core.models import (
    CheckItem,
    Department,
    Inspector,
    Result,
    ResultAttachment,
    ResultEntry,
    Round,
    Target,
    Task,
    TeamMember,
)
from jointcheck.core.repositories.tasks import TaskContext
from jointcheck.core.result_categories import CATEGORIES, FOLLOW_UPS
from jointcheck.core.services.cases import close_cases_of_round
from jointcheck.core.services.credit import apply_after_publication
from jointcheck.core.services.departments import department_by_code
from jointcheck.core.services.notify import notify_departments, notify_inspectors
from jointcheck.core.services.publication import write_public_records
from jointcheck.core.uow import UnitOfWork

NOTE_LIMIT = limits.NOTE
ATTACHMENT_KINDS = ("photo", "document")
# A draft may change; a submission waits for review; a returned result may change again.
EDITABLE = ("draft", "returned")


@dataclass(frozen=True)
class TaskSummary:
    task_id: int
    round_id: int
    round_title: str
    target_code: str
    target_name: str
    address: str
    due_date: dt.date | None
    status: str
    visit_order: int
    batch: int | None

    @classmethod
    def of(cls, task: Task, target: Target, round_: Round) -> TaskSummary:
        return cls(
            task.id,
            round_.id,
            round_.title,
            target.code,
            target.name,
            target.address,
            task.due_date,
            task.status,
            task.visit_order,
            task.batch,
        )


@dataclass(frozen=True)
class Teammate:
    inspector_id: int
    name: str
    department_code: str
    department_name: str
    source: str


@dataclass(frozen=True)
class ItemResult:
    item_id: int
    item_code: str
    item_name: str
    department_code: str
    category: str | None
    follow_up: str
    note: str
    status: str  # none | draft | submitted | returned | accepted | published
    attachments: int
    review_reason: str
    mine: bool  # the viewer records this item (an inspector of its department on the team)


@dataclass(frozen=True)
class TaskDetail:
    summary: TaskSummary
    team: list[Teammate]
    items: list[ItemResult]

    def editable_items(self) -> list[ItemResult]:
        return [i for i in self.items if i.mine and i.status in ("none", *EDITABLE)]

    def ready_to_submit(self) -> bool:
        mine = [i for i in self.items if i.mine]
        return bool(mine) and all(i.status in EDITABLE for i in mine) and any(i.status in EDITABLE for i in mine)


@dataclass(frozen=True)
class HistoryEntry:
    """One finding, note or return of a result, as it was given: what a reviewer reads to see
    what changed since the first submission."""

    item_code: str
    item_name: str
    kind: str  # finding | note | returned
    category: str
    follow_up: str
    text: str
    author: str
    at: dt.datetime


@dataclass(frozen=True)
class ReviewEntry:
    summary: TaskSummary
    department_id: int
    department_code: str
    submitted: int


@dataclass(frozen=True)
class Publishable:
    round_id: int
    round_title: str
    department_id: int
    department_code: str
    accepted: int


# ---- reading -------------------------------------------------------------------------------------


async def list_my_tasks(
    uow: UnitOfWork, actor: Actor, *, open_only: bool = True, offset: int = 0, limit: int = 10
) -> tuple[list[TaskSummary], int]:
    """An inspector's own tasks, a page at a time, with the total count."""
    mine = sorted(actor.inspector_ids())
    if not mine:
        authorize(actor, Action.RESULT_SUBMIT, Scope())  # logs and raises: only inspectors have tasks
    rows = await uow.tasks.of_inspectors(mine, open_only=open_only, offset=max(offset, 0), limit=max(1, min(limit, 50)))
    total = await uow.tasks.count_of_inspectors(mine, open_only=open_only)
    return [TaskSummary.of(t, g, r) for t, g, r in rows], total


async def _visible_task(uow: UnitOfWork, actor: Actor, task_id: int, *, for_update: bool = False) -> TaskContext:
    seen = await uow.tasks.context(task_id, for_update=for_update)
    if seen is not None:
        scope = Scope.of(departments=seen.departments, region=seen.round.region, inspectors=[m.inspector_id for m, _, _ in seen.team])
        if can(actor, Action.TASK_VIEW, scope):
            return seen
    raise NotFound(f"task {task_id} not found")


def _my_departments(actor: Actor, team: list[tuple[TeamMember, Inspector, Department]]) -> set[int]:
    """Departments whose items this actor records on this task: those of their inspector records on its team."""
    mine = actor.inspector_ids()
    return {m.department_id for m, _, _ in team if m.inspector_id in mine}


def _detail(actor: Actor, seen: TaskContext, rows: list[tuple[CheckItem, Department, Result | None, int]]) -> TaskDetail:
    """The task as this actor sees it, from its context and `items_with_results`."""
    recording = _my_departments(actor, seen.team)
    items = [
        ItemResult(
            item.id,
            item.code,
            item.name,
            department.code,
            result.category if result else None,
            result.follow_up if result else "none",
            result.note if result else "",
            result.status if result else "none",
            attachments,
            result.review_reason if result else "",
            department.id in recording,
        )
        for item, department, result, attachments in rows
    ]
    mates = [Teammate(i.id, i.name, d.code, d.name, m.source) for m, i, d in seen.team]
    return TaskDetail(TaskSummary.of(seen.task, seen.target, seen.round), mates, items)


async def task_detail(uow: UnitOfWork, actor: Actor, task_id: int) -> TaskDetail:
    seen = await _visible_task(uow, actor, task_id)
    return _detail(actor, seen, await uow.tasks.items_with_results(seen.task))


# ---- recording (inspectors) ---------------------------------------------------------------------


async def _recordable(uow: UnitOfWork, actor: Actor, task_id: int, item_id: int) -> tuple[Task, CheckItem, Result | None]:
    seen = await _visible_task(uow, actor, task_id)
    authorize(actor, Action.RESULT_SUBMIT, Scope.of(inspectors=[m.inspector_id for m, _, _ in seen.team]))
    row = next((row for row in await uow.tasks.items_with_results(seen.task) if row[0].id == item_id), None)
    if row is None:
        raise NotFound(f"item {item_id} is not checked in round {seen.round.id}")
    item, _, result, _ = row
    if item.department_id not in _my_departments(actor, seen.team):
        raise PermissionDenied(f"item {item.code} is recorded by its own department's inspectors")
    if result is not None and result.status not in EDITABLE:
        raise Conflict(f"the result of {item.code} on task {task_id} is {result.status}; it cannot change now")
    return seen.task, item, result


async def record_result(uow: UnitOfWork, actor: Actor, task_id: int, item_id: int, category: str, follow_up: str = "none") -> Result:
    """Choose (or change) the category of one item on a task; the result stays a draft until submitted."""
    if category not in CATEGORIES:
        raise InvalidInput(f"{category!r} is not a standard result category ({', '.join(CATEGORIES)})")
    if follow_up not in FOLLOW_UPS:
        raise InvalidInput(f"{follow_up!r} is not a follow-up action ({', '.join(FOLLOW_UPS)})")
    task, item, result = await _recordable(uow, actor, task_id, item_id)
    if result is None:
        result = Result(task_id=task.id, item_id=item.id, note="", review_reason="")
        uow.tasks.add_result(result)
    result.category, result.follow_up, result.status = category, follow_up, "draft"
    await uow.tasks.flush()
    entry = _entry(uow, actor, result, "finding", category=category, follow_up=follow_up)
    await uow.tasks.flush()
    await uow.audit.record(
        actor,
        "result.recorded",
        "task",
        task.id,
        {"item": item.code, "version": item.version, "category": category, "follow_up": follow_up, "entry": entry.id},
    )
    return result


def _entry(uow: UnitOfWork, actor: Actor, result: Result, kind: str, **fields) -> ResultEntry:
    """Append to the result's history: nothing said about a result is ever overwritten."""
    entry = ResultEntry(
        result_id=result.id,
        kind=kind,
        category=fields.get("category", ""),
        follow_up=fields.get("follow_up", ""),
        text=fields.get("text", ""),
        author_user_id=actor.user_id,
        created_at=uow.clock(),
    )
    uow.tasks.add_entry(entry)
    return entry


def _text_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def _draft(uow: UnitOfWork, actor: Actor, task_id: int, item_id: int) -> tuple[Task, CheckItem, Result]:
    task, item, result = await _recordable(uow, actor, task_id, item_id)
    if result is None:
        raise InvalidInput(f"choose the category of {item.code} first")
    return task, item, result


async def add_note(uow: UnitOfWork, actor: Actor, task_id: int, item_id: int, note: str) -> Result:
    """Add a note to an item's result: notes accumulate (a note typed as two messages keeps both),
    each kept apart with its author and time. The audit event carries the note's SHA-256 and the
    id of its stored copy rather than the text, because the audit trail goes into the round's
    public bundle and a field note may name people."""
    note = note.strip()
    if not note:
        raise InvalidInput("a note needs some text", code="note.empty")
    if len(note) > NOTE_LIMIT:
        raise InvalidInput(
            f"a note has at most {NOTE_LIMIT} characters (this one has {len(note)})",
            code="note.too_long",
            params={"limit": NOTE_LIMIT, "chars": len(note)},
        )
    task, item, result = await _draft(uow, actor, task_id, item_id)
    result.note = f"{result.note}\n{note}" if result.note else note
    result.status = "draft"
    entry = _entry(uow, actor, result, "note", text=note)
    await uow.tasks.flush()
    await uow.audit.record(
        actor,
        "result.noted",
        "task",
        task.id,
        {"item": item.code, "note_chars": len(note), "note_sha256": _text_digest(note), "entry": entry.id},
    )
    return result


async def attach(
    uow: UnitOfWork,
    actor: Actor,
    task_id: int,
    item_id: int,
    kind: str,
    telegram_file_id: str,
    file_name: str = "",
    *,
    sha256: str | None = None,
    size: int | None = None,
) -> ResultAttachment:
    """A photo or document for an item's result: its Telegram file id and, once the adapter has
    kept its content in the file store, that content's SHA-256 and size."""
    if kind not in ATTACHMENT_KINDS:
        raise InvalidInput(f"an attachment is a photo or a document, not {kind!r}")
    if not telegram_file_id or len(telegram_file_id) > 255:
        raise InvalidInput("an attachment needs its file id")
    task, item, result = await _draft(uow, actor, task_id, item_id)
    attachment = ResultAttachment(
        result_id=result.id, kind=kind, telegram_file_id=telegram_file_id, file_name=file_name[:255], sha256=sha256, size=size
    )
    uow.tasks.add_attachment(attachment)
    result.status = "draft"
    payload = {"item": item.code, "kind": kind, "file_id": telegram_file_id}
    if sha256:
        payload |= {"sha256": sha256, "bytes": size}
    await uow.audit.record(actor, "result.attached", "task", task.id, payload)
    return attachment


async def submit_results(uow: UnitOfWork, actor: Actor, task_id: int) -> list[Result]:
    """Submit every item the actor records on this task for review; each needs its category first."""
    submitted, _ = await submit_and_detail(uow, actor, task_id)
    return submitted


async def submit_and_detail(uow: UnitOfWork, actor: Actor, task_id: int) -> tuple[list[Result], TaskDetail]:
    """`submit_results`, and the task as the actor sees it afterwards (what the bot shows next),
    built from what the submission read instead of reading it all again."""
    seen = await _visible_task(uow, actor, task_id, for_update=True)
    task, round_, team = seen.task, seen.round, seen.team
    authorize(actor, Action.RESULT_SUBMIT, Scope.of(inspectors=[m.inspector_id for m, _, _ in team]))
    rows = await uow.tasks.items_with_results(task)
    mine = [i for i in _detail(actor, seen, rows).items if i.mine]
    if not mine:
        raise PermissionDenied(f"no item of task {task_id} is recorded by you")
    missing = [i.item_code for i in mine if i.status == "none"]
    if missing:
        raise InvalidInput("choose a category first for: " + ", ".join(missing))
    open_ids = {i.item_id for i in mine if i.status in EDITABLE}
    if not open_ids:
        raise Conflict(f"the results of task {task_id} are submitted already")
    now = uow.clock()
    submitted = [r for _, _, r, _ in rows if r is not None and r.item_id in open_ids]
    for result in submitted:
        result.status, result.submitted_by_user_id, result.submitted_at = "submitted", actor.user_id, now
        result.reviewed_by_user_id, result.reviewed_at = None, None
    codes = sorted(i.item_code for i in mine if i.item_id in open_ids)
    event = await uow.audit.record(
        actor,
        "result.submitted",
        "task",
        task.id,
        {
            "items": codes,
            "categories": {i.item_code: i.category for i in mine if i.item_id in open_ids},
        },
    )
    # A returned result is submitted again: the event's sequence number tells the submissions apart.
    teammates = [m.inspector_id for m, _, _ in team if m.inspector_id not in actor.inspector_ids()]
    # What was found, with the target's name, so a notice reads without opening the task.
    findings = [{"code": i.item_code, "name": i.item_name, "category": i.category} for i in mine if i.item_id in open_ids]
    params = {"task_id": task.id, "round_id": round_.id, "items": codes, "target": seen.target.name, "findings": findings}
    await notify_inspectors(uow, teammates, "results_submitted", lambda _: params, f"task:{task.id}:submitted:{event.seq}")
    await notify_departments(uow, sorted(_my_departments(actor, team)), "results_to_review", params, f"task:{task.id}:review:{event.seq}")
    return submitted, _detail(actor, seen, rows)


# ---- review and publication (officers) ------------------------------------------------------------


async def submission_to_review(uow: UnitOfWork, actor: Actor, task_id: int, department: Department) -> TaskDetail:
    """The task as the reviewer sees it, when the department's results on it are submitted and the
    actor may review them: what a reviewer is shown, and asked before a return's reason is asked
    for (`review_results` checks it all again when the decision is made)."""
    detail = await task_detail(uow, actor, task_id)
    authorize(actor, Action.RESULT_REVIEW, Scope.of(departments=[department.id]))
    if not any(i.department_code == department.code and i.status == "submitted" for i in detail.items):
        raise Conflict(f"task {task_id} has no submitted result of {department.code} to review")
    return detail


async def review_results(
    uow: UnitOfWork, actor: Actor, task_id: int, department_code: str, *, accept: bool, reason: str = "", note_public: bool = False
) -> list[Result]:
    """Accept or return (with a reason) a department's submitted results on a task. Accepting with
    `note_public` makes the results' notes part of what is published (masked); by default they stay internal."""
    seen = await _visible_task(uow, actor, task_id, for_update=True)
    task, round_, team = seen.task, seen.round, seen.team
    department = await department_by_code(uow, department_code)
    authorize(actor, Action.RESULT_REVIEW, Scope.of(departments=[department.id]))
    reason = limits.bounded(reason, limits.REASON, "a reason")
    if not accept and not reason:
        raise InvalidInput("returning results needs a reason", code="review.reason_missing")
    if len(reason) > NOTE_LIMIT:
        raise InvalidInput(
            f"a reason has at most {NOTE_LIMIT} characters", code="note.too_long", params={"limit": NOTE_LIMIT, "chars": len(reason)}
        )
    rows = [(i, r) for i, d, r, _ in await uow.tasks.items_with_results(task) if d.id == department.id]
    items = {i.id: i for i, _ in rows}
    pending = [r for _, r in rows if r is not None and r.status == "submitted"]
    if not pending:
        raise Conflict(f"task {task_id} has no submitted result of {department_code} to review")
    now = uow.clock()
    for result in pending:
        result.status = "accepted" if accept else "returned"
        result.reviewed_by_user_id, result.reviewed_at, result.review_reason = actor.user_id, now, reason
        result.note_public = accept and note_public
        if not accept:
            _entry(uow, actor, result, "returned", text=reason)
    codes = sorted(items[r.item_id].code for r in pending)
    payload = {"department": department.code, "items": codes, "reason": reason}
    if accept and note_public:
        payload["notes_public"] = True
    event = await uow.audit.record(actor, "result.accepted" if accept else "result.returned", "task", task.id, payload)
    await uow.tasks.flush()
    if accept:
        if await uow.tasks.complete_if_done(task, now):
            await uow.audit.record(actor, "task.completed", "task", task.id, {"round_id": round_.id})
    else:
        members = [m.inspector_id for m, _, _ in team if m.department_id == department.id]
        await notify_inspectors(
            uow,
            members,
            "results_returned",
            lambda _: {"task_id": task.id, "items": codes, "reason": reason, "target": seen.target.name},
            f"task:{task.id}:returned:{event.seq}",
        )
    return pending


async def result_history(uow: UnitOfWork, actor: Actor, task_id: int, department_id: int | None = None) -> list[HistoryEntry]:
    """Every finding, note and return of a task's results, oldest first, for whoever may see the
    task (of one department's items when given): a returned result's first finding stays here
    after its correction."""
    await _visible_task(uow, actor, task_id)
    return [
        HistoryEntry(
            item.code,
            item.name,
            entry.kind,
            entry.category,
            entry.follow_up,
            entry.text,
            author.display_name if author is not None else "",
            entry.created_at,
        )
        for entry, item, author in await uow.tasks.entries(task_id, department_id)
    ]


async def awaiting_review(uow: UnitOfWork, actor: Actor, *, offset: int = 0, limit: int = 10) -> list[ReviewEntry]:
    departments = sorted(actor.department_ids())
    if not departments:
        authorize(actor, Action.RESULT_REVIEW, Scope())
    rows = await uow.tasks.awaiting_review(departments, offset=max(offset, 0), limit=max(1, min(limit, 50)))
    return [ReviewEntry(TaskSummary.of(t, g, r), d.id, d.code, n) for t, g, r, d, n in rows]


async def publishable(uow: UnitOfWork, actor: Actor) -> list[Publishable]:
    departments = sorted(actor.department_ids())
    if not departments:
        authorize(actor, Action.RESULT_PUBLISH, Scope())
    return [Publishable(r.id, r.title, d.id, d.code, n) for r, d, n in await uow.tasks.publishable(departments)]


async def publish_results(uow: UnitOfWork, actor: Actor, round_id: int, department_code: str) -> int:
    """Make a department's accepted results of a round public; returns how many were published."""
    round_ = await uow.rounds.get(round_id, for_update=True)
    department = await uow.departments.by_code(department_code)
    if round_ is None or department is None:
        raise NotFound(f"round {round_id} not found")
    authorize(actor, Action.RESULT_PUBLISH, Scope.of(departments=[department.id]))
    now = uow.clock()
    await write_public_records(uow, round_id, department.id, now)
    count = await uow.tasks.publish(round_id, department.id, now)
    if count == 0:
        raise Conflict(f"round {round_id} has no accepted result of {department_code} left to publish")
    uow.tasks.add_publication(round_id, department.id, now)
    await uow.audit.record(actor, "results.published", "round", round_id, {"department": department.code, "results": count})
    await apply_after_publication(uow, actor, round_id, department.id, now)
    if round_.kind == "case":
        await close_cases_of_round(uow, actor, round_id, now)
    return count
