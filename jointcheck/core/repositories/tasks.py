"""Tasks seen from the field: an inspector's tasks, a task's items, team and results, and the
results awaiting an officer's review or publication. Every list is paginated in the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache
from typing import NamedTuple

from sqlalchemy import and_, bindparam, case, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jointcheck.core.models import (
    CheckItem,
    CreditChange,
    Department,
    Inspector,
    Publication,
    Result,
    ResultAttachment,
    ResultEntry,
    Round,
    RoundItem,
    RoundParticipant,
    Target,
    Task,
    TeamMember,
    User,
)

# A task is open while any item of the round lacks an accepted (or published) result.
DONE_STATUSES = ("accepted", "published")


class TaskContext(NamedTuple):
    """What deciding who may see a task, and showing it, needs besides its items."""

    task: Task
    round: Round
    target: Target
    departments: list[int]  # the round's confirmed participants
    team: list[tuple[TeamMember, Inspector, Department]]


# Opening a task is the bot's most frequent read: these statements are built once, with bound
# parameters, because building one costs more than SQLite takes to run it.


@cache
def _context(for_update: bool):
    query = (
        select(Task, Round, Target, RoundParticipant.department_id, TeamMember, Inspector, Department)
        .join(Round, Round.id == Task.round_id)
        .join(Target, Target.id == Task.target_id)
        .outerjoin(RoundParticipant, and_(RoundParticipant.round_id == Round.id, RoundParticipant.status == "confirmed"))
        .outerjoin(TeamMember, TeamMember.task_id == Task.id)
        .outerjoin(Inspector, Inspector.id == TeamMember.inspector_id)
        .outerjoin(Department, Department.id == TeamMember.department_id)
        .where(Task.id == bindparam("task_id"))
        .order_by(Department.code, TeamMember.position)
    )
    return query.with_for_update(of=Task) if for_update else query


@cache
def _items_with_results():
    attachments = select(func.count()).where(ResultAttachment.result_id == Result.id).correlate(Result).scalar_subquery()
    return (
        select(CheckItem, Department, Result, attachments)
        .join(RoundItem, RoundItem.item_id == CheckItem.id)
        .join(Department, Department.id == CheckItem.department_id)
        .outerjoin(Result, and_(Result.task_id == bindparam("task_id"), Result.item_id == CheckItem.id))
        .where(RoundItem.round_id == bindparam("round_id"))
        .order_by(Department.code, CheckItem.code)
    )


class TaskRepository:
    def __init__(self, session: AsyncSession):
        self._session = session

    async def get(self, task_id: int, *, for_update: bool = False) -> Task | None:
        query = select(Task).where(Task.id == task_id)
        if for_update:
            query = query.with_for_update()
        return (await self._session.execute(query)).scalar_one_or_none()

    async def context(self, task_id: int, *, for_update: bool = False) -> TaskContext | None:
        """A task with its round, target, confirmed departments and team in one query: a row per
        (confirmed department, team member). `for_update` locks the task's row only, not its round's."""
        rows = (await self._session.execute(_context(for_update), {"task_id": task_id})).all()
        if not rows:
            return None
        task, round_, target = rows[0][:3]
        departments = sorted({row[3] for row in rows if row[3] is not None})
        team = list(dict.fromkeys((m, i, d) for *_, m, i, d in rows if m is not None))
        return TaskContext(task, round_, target, departments, team)

    def _of_inspectors(self, inspector_ids: Sequence[int], open_only: bool):
        query = (
            select(Task, Target, Round)
            .join(Target, Target.id == Task.target_id)
            .join(Round, Round.id == Task.round_id)
            .where(exists().where(TeamMember.task_id == Task.id, TeamMember.inspector_id.in_(list(inspector_ids))))
        )
        if open_only:
            query = query.where(Task.completed_at.is_(None))
        return query

    async def of_inspectors(
        self, inspector_ids: Sequence[int], *, open_only: bool, offset: int, limit: int
    ) -> list[tuple[Task, Target, Round]]:
        """The tasks these inspectors are on, soonest due first, then by round and visit order."""
        query = (
            self._of_inspectors(inspector_ids, open_only)
            .order_by(Task.due_date.is_(None), Task.due_date, Task.round_id, Task.visit_order)
            .offset(offset)
            .limit(limit)
        )
        return [(t, g, r) for t, g, r in await self._session.execute(query)]

    async def count_of_inspectors(self, inspector_ids: Sequence[int], *, open_only: bool) -> int:
        query = select(func.count()).select_from(self._of_inspectors(inspector_ids, open_only).subquery())
        return (await self._session.execute(query)).scalar_one()

    async def in_round_of_inspector(self, round_id: int, inspector_id: int, limit: int) -> list[tuple[Task, Target]]:
        """One inspector's first tasks in one round, in visit order (what the task notice lists)."""
        query = (
            select(Task, Target)
            .join(Target, Target.id == Task.target_id)
            .join(TeamMember, TeamMember.task_id == Task.id)
            .where(Task.round_id == round_id, TeamMember.inspector_id == inspector_id)
            .order_by(Task.visit_order)
            .limit(limit)
        )
        return [(t, g) for t, g in await self._session.execute(query)]

    async def team(self, task_ids: Sequence[int]) -> list[tuple[TeamMember, Inspector, Department]]:
        query = (
            select(TeamMember, Inspector, Department)
            .join(Inspector, Inspector.id == TeamMember.inspector_id)
            .join(Department, Department.id == TeamMember.department_id)
            .where(TeamMember.task_id.in_(list(task_ids)))
            .order_by(TeamMember.task_id, Department.code, TeamMember.position)
        )
        return [(m, i, d) for m, i, d in await self._session.execute(query)]

    async def items(self, round_id: int) -> list[tuple[CheckItem, Department]]:
        """The round's items with their departments: every item is checked on every task's visit."""
        query = (
            select(CheckItem, Department)
            .join(RoundItem, RoundItem.item_id == CheckItem.id)
            .join(Department, Department.id == CheckItem.department_id)
            .where(RoundItem.round_id == round_id)
            .order_by(Department.code, CheckItem.code)
        )
        return [(c, d) for c, d in await self._session.execute(query)]

    async def items_with_results(self, task: Task) -> list[tuple[CheckItem, Department, Result | None, int]]:
        """The round's items as `items` gives them, each with this task's result (None while not
        recorded) and that result's number of attachments."""
        params = {"task_id": task.id, "round_id": task.round_id}
        return [(c, d, r, n) for c, d, r, n in await self._session.execute(_items_with_results(), params)]

    def add_result(self, result: Result) -> None:
        self._session.add(result)

    def add_attachment(self, attachment: ResultAttachment) -> None:
        self._session.add(attachment)

    def add_entry(self, entry: ResultEntry) -> None:
        self._session.add(entry)

    async def entries(self, task_id: int, department_id: int | None = None) -> list[tuple[ResultEntry, CheckItem, User | None]]:
        """Every finding, note and return of the task's results (of one department's items when
        given), oldest first, with the item and the author."""
        query = (
            select(ResultEntry, CheckItem, User)
            .join(Result, Result.id == ResultEntry.result_id)
            .join(CheckItem, CheckItem.id == Result.item_id)
            .outerjoin(User, User.id == ResultEntry.author_user_id)
            .where(Result.task_id == task_id)
            .order_by(ResultEntry.created_at, ResultEntry.id)
        )
        if department_id is not None:
            query = query.where(CheckItem.department_id == department_id)
        return [(e, i, u) for e, i, u in await self._session.execute(query)]

    async def flush(self) -> None:
        await self._session.flush()

    async def awaiting_review(
        self, department_ids: Sequence[int], *, offset: int, limit: int
    ) -> list[tuple[Task, Target, Round, Department, int]]:
        """(task, target, round, department, results submitted) for every task with a department's
        submission to review, oldest submission first."""
        submitted = (
            select(Result.task_id, CheckItem.department_id, func.count().label("n"), func.min(Result.submitted_at).label("first"))
            .join(CheckItem, CheckItem.id == Result.item_id)
            .where(Result.status == "submitted", CheckItem.department_id.in_(list(department_ids)))
            .group_by(Result.task_id, CheckItem.department_id)
            .subquery()
        )
        query = (
            select(Task, Target, Round, Department, submitted.c.n)
            .join(submitted, submitted.c.task_id == Task.id)
            .join(Target, Target.id == Task.target_id)
            .join(Round, Round.id == Task.round_id)
            .join(Department, Department.id == submitted.c.department_id)
            .order_by(submitted.c.first, Task.id, Department.code)
            .offset(offset)
            .limit(limit)
        )
        return [(t, g, r, d, n) for t, g, r, d, n in await self._session.execute(query)]

    async def publishable(self, department_ids: Sequence[int]) -> list[tuple[Round, Department, int]]:
        """(round, department, accepted results not yet public) for these departments."""
        query = (
            select(Round, Department, func.count())
            .select_from(Result)
            .join(Task, Task.id == Result.task_id)
            .join(Round, Round.id == Task.round_id)
            .join(CheckItem, CheckItem.id == Result.item_id)
            .join(Department, Department.id == CheckItem.department_id)
            .where(Result.status == "accepted", CheckItem.department_id.in_(list(department_ids)))
            .group_by(Round.id, Department.id)
            .order_by(Round.id, Department.code)
        )
        return [(r, d, n) for r, d, n in await self._session.execute(query)]

    async def publish(self, round_id: int, department_id: int, now: dt.datetime) -> int:
        """Accepted results of a department's items in a round become public; returns how many."""
        in_round = select(Task.id).where(Task.round_id == round_id)
        of_department = select(CheckItem.id).where(CheckItem.department_id == department_id)
        statement = (
            update(Result)
            .where(Result.status == "accepted", Result.task_id.in_(in_round), Result.item_id.in_(of_department))
            .values(status="published", published_at=now)
        )
        return (await self._session.execute(statement, execution_options={"synchronize_session": False})).rowcount

    async def attachments(self, task_id: int, department_id: int, status: str) -> list[tuple[str, ResultAttachment]]:
        """(item code, attachment) of a department's results in this status on a task."""
        query = (
            select(CheckItem.code, ResultAttachment)
            .join(Result, Result.id == ResultAttachment.result_id)
            .join(CheckItem, CheckItem.id == Result.item_id)
            .where(Result.task_id == task_id, CheckItem.department_id == department_id, Result.status == status)
            .order_by(CheckItem.code, ResultAttachment.id)
        )
        return [(c, a) for c, a in await self._session.execute(query)]

    async def round_attachments(self, round_id: int, published_only: bool) -> list[tuple[str, str, str, str | None, int | None]]:
        """(target code, item code, kind, sha256, size) of every attachment of a round, in visit order."""
        query = (
            select(Target.code, CheckItem.code, ResultAttachment.kind, ResultAttachment.sha256, ResultAttachment.size)
            .join(Result, Result.id == ResultAttachment.result_id)
            .join(Task, Task.id == Result.task_id)
            .join(Target, Target.id == Task.target_id)
            .join(CheckItem, CheckItem.id == Result.item_id)
            .where(Task.round_id == round_id)
            .order_by(Task.visit_order, CheckItem.code, ResultAttachment.id)
        )
        if published_only:
            query = query.where(Result.status == "published")
        return [tuple(row) for row in await self._session.execute(query)]

    def report_rows(self, department_ids: Sequence[int] | None, round_id: int | None, batch: int = 5000):
        return report_rows(self._session, department_ids, round_id, batch)

    def add_publication(self, round_id: int, department_id: int, now: dt.datetime) -> None:
        self._session.add(Publication(round_id=round_id, department_id=department_id, kind="results", published_at=now, content_sha256=""))

    async def complete_if_done(self, task: Task, now: dt.datetime) -> bool:
        """Mark the task completed once every item of its round has an accepted result."""
        items = select(func.count()).select_from(RoundItem).where(RoundItem.round_id == task.round_id).scalar_subquery()
        done = select(func.count()).select_from(Result).where(Result.task_id == task.id, Result.status.in_(DONE_STATUSES)).scalar_subquery()
        statement = (
            update(Task)
            .where(Task.id == task.id, Task.completed_at.is_(None), and_(items > 0, done >= items))
            .values(completed_at=now, status="completed")
        )
        changed = (await self._session.execute(statement, execution_options={"synchronize_session": False})).rowcount == 1
        if changed:
            await self._session.refresh(task)
        return changed


def _class_after_publication():
    """The target's credit class once the result was published: the last change of class up to then
    (made by this publication or before it), or before any change the class the first change
    started from, or when the class never changed the target's class; None while unpublished.
    Each is a look-up in the changes' (target, id) index."""
    changes = select(CreditChange).where(CreditChange.target_id == Task.target_id)
    last = changes.with_only_columns(CreditChange.to_class).where(CreditChange.changed_at <= Result.published_at)
    first = changes.with_only_columns(CreditChange.from_class).order_by(CreditChange.id).limit(1)
    after = func.coalesce(last.order_by(CreditChange.id.desc()).limit(1).scalar_subquery(), first.scalar_subquery(), Target.risk)
    return case((Result.published_at.is_(None), None), else_=after)


def _report_query(department_ids: Sequence[int] | None, round_id: int | None):
    query = (
        select(
            Result.id,
            Target.code,
            Target.name,
            Target.kind,
            Department.name,
            Round.id,
            Round.title,
            Round.kind,
            Task.source,
            Result.inspected_on,
            func.coalesce(Task.completed_at, Result.submitted_at),
            CheckItem.code,
            CheckItem.name,
            Result.category,
            Result.follow_up,
            Result.status,
            Result.published_at,
            _class_after_publication(),
        )
        .join(Task, Task.id == Result.task_id)
        .join(Round, Round.id == Task.round_id)
        .join(Target, Target.id == Task.target_id)
        .join(CheckItem, CheckItem.id == Result.item_id)
        .join(Department, Department.id == CheckItem.department_id)
        .where(Result.status.in_(DONE_STATUSES))
    )
    if department_ids is not None:
        query = query.where(CheckItem.department_id.in_(list(department_ids)))
    if round_id is not None:
        query = query.where(Task.round_id == round_id)
    return query


async def report_rows(session: AsyncSession, department_ids: Sequence[int] | None, round_id: int | None, batch: int = 5000):
    """Accepted and published results for a department's own report, in keyset batches by result id."""
    last = 0
    while True:
        query = _report_query(department_ids, round_id).where(Result.id > last).order_by(Result.id).limit(batch)
        rows = (await session.execute(query)).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]
