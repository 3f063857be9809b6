"""What the public side reads and what publication writes: the public record of results
(`public_results`), and the published parts of approved rounds. Every list is paginated by keyset
in the database; nothing here reads an inspector's name for display."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from sqlalchemy import String, cast, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from jointcheck.core.models import (
    CheckItem,
    CreditChange,
    Department,
    Draw,
    Inspector,
    Plan,
    PublicResult,
    Region,
    Result,
    Round,
    RoundItem,
    RoundParticipant,
    Target,
    Task,
    TeamMember,
)


@dataclass(frozen=True)
class ResultFilter:
    """A public search. `code` is exact (credit code or registration number), `name` a prefix."""

    code: str = ""
    name: str = ""
    department_id: int | None = None
    item_code: str = ""
    category: str = ""
    region: str = ""  # a GB/T 2260 code or its prefix (44, 4401, 440106)
    published_from: dt.datetime | None = None
    published_before: dt.datetime | None = None
    round_id: int | None = None


@dataclass(frozen=True)
class ToPublish:
    """An accepted result about to become public, with what its public record needs."""

    result_id: int
    task_id: int
    item_id: int
    item_code: str
    item_name: str
    target_code: str
    target_name: str
    target_kind: str
    region: str
    category: str
    follow_up: str
    note: str
    note_public: bool
    inspected_on: dt.date | None  # entered from paper
    finished_at: dt.datetime | None  # the task's completion, or the department's submission before it


RECORD_COLUMNS = (
    PublicResult.id,
    PublicResult.round_id,
    PublicResult.department_id,
    Department.code,
    Department.name,
    PublicResult.item_code,
    CheckItem.name,
    PublicResult.target_code,
    PublicResult.target_name,
    PublicResult.target_kind,
    PublicResult.region,
    PublicResult.category,
    PublicResult.follow_up,
    PublicResult.note,
    PublicResult.inspected_on,
    PublicResult.due_by,
    PublicResult.published_at,
    PublicResult.on_time,
    PublicResult.supersedes_id,
    PublicResult.superseded_by_id,
    PublicResult.correction_reason,
    Round.kind,
)


def _records():
    return (
        select(*RECORD_COLUMNS)
        .join(Department, Department.id == PublicResult.department_id)
        .join(CheckItem, CheckItem.id == PublicResult.item_id)
        .join(Round, Round.id == PublicResult.round_id)
    )


def _name_upper_bound(prefix: str) -> str:
    """The least string greater than every string starting with `prefix` (byte/code point order)."""
    return prefix + "\U0010ffff"


class PublicRepository:
    def __init__(self, session: AsyncSession):
        self._session = session

    # ---- publication (writes) --------------------------------------------------------------------

    async def to_publish(self, round_id: int, department_id: int) -> list[ToPublish]:
        """The department's accepted results of the round, in visit order: bounded by one round."""
        query = (
            select(
                Result.id,
                Task.id,
                CheckItem.id,
                CheckItem.code,
                CheckItem.name,
                Target.code,
                Target.name,
                Target.kind,
                Target.region,
                Result.category,
                Result.follow_up,
                Result.note,
                Result.note_public,
                Result.inspected_on,
                func.coalesce(Task.completed_at, Result.submitted_at),
            )
            .join(Task, Task.id == Result.task_id)
            .join(Target, Target.id == Task.target_id)
            .join(CheckItem, CheckItem.id == Result.item_id)
            .where(Task.round_id == round_id, CheckItem.department_id == department_id, Result.status == "accepted")
            .order_by(Task.visit_order, CheckItem.code)
        )
        return [ToPublish(*row) for row in await self._session.execute(query)]

    async def inspector_names(self, task_ids: Sequence[int]) -> list[str]:
        """Names of the people on these tasks' teams: masked wherever a note mentions them."""
        if not task_ids:
            return []
        query = (
            select(Inspector.name)
            .distinct()
            .join(TeamMember, TeamMember.inspector_id == Inspector.id)
            .where(TeamMember.task_id.in_(task_ids))
        )
        return list((await self._session.execute(query)).scalars())

    async def add_records(self, rows: list[dict]) -> None:
        if rows:
            await self._session.execute(insert(PublicResult), rows)

    async def current_record(self, result_id: int, *, for_update: bool = False) -> PublicResult | None:
        """The record of a result that no correction has superseded yet."""
        query = select(PublicResult).where(PublicResult.result_id == result_id, PublicResult.superseded_by_id.is_(None))
        if for_update:
            query = query.with_for_update()
        return (await self._session.execute(query)).scalar_one_or_none()

    async def add_record(self, record: PublicResult) -> PublicResult:
        self._session.add(record)
        await self._session.flush()
        return record

    async def mark_superseded(self, record_id: int, by_id: int) -> None:
        await self._session.execute(
            update(PublicResult).where(PublicResult.id == record_id).values(superseded_by_id=by_id),
            execution_options={"synchronize_session": False},
        )

    # ---- the public record (reads) ---------------------------------------------------------------

    def _filtered(self, query, f: ResultFilter):
        if f.code:
            query = query.where(PublicResult.target_code == f.code)
        if f.name:
            query = query.where(PublicResult.target_name >= f.name, PublicResult.target_name < _name_upper_bound(f.name))
        if f.department_id is not None:
            query = query.where(PublicResult.department_id == f.department_id)
        if f.item_code:
            query = query.where(PublicResult.item_code == f.item_code)
        if f.category:
            query = query.where(PublicResult.category == f.category)
        if f.region:
            query = query.where(PublicResult.region >= f.region, PublicResult.region < f.region + "\x7f")
        if f.published_from is not None:
            query = query.where(PublicResult.published_at >= f.published_from)
        if f.published_before is not None:
            query = query.where(PublicResult.published_at < f.published_before)
        if f.round_id is not None:
            query = query.where(PublicResult.round_id == f.round_id)
        return query

    async def search(self, f: ResultFilter, after: tuple | None, limit: int) -> list[tuple]:
        """A page of public records. By name prefix they come in (name, id) order, the keyset being
        the last (name, id); otherwise newest first, the keyset being the last id."""
        query = self._filtered(_records(), f)
        if f.name and not f.code:
            if after is not None:
                query = query.where(tuple_(PublicResult.target_name, PublicResult.id) > tuple_(*after))
            query = query.order_by(PublicResult.target_name, PublicResult.id)
        else:
            if after is not None:
                query = query.where(PublicResult.id < after[0])
            query = query.order_by(PublicResult.id.desc())
        return list((await (await self._session.connection()).execute(query.limit(limit))).all())

    async def stream(self, f: ResultFilter, kind: str, batch: int = 10_000) -> AsyncIterator[list[tuple[int, str]]]:
        """(id, the record as a line of the feed) of every public record matching `f`, oldest
        first, a keyset batch at a time: a feed of millions of rows never holds more than one
        batch. The database puts each line together from the stored serialization and the two
        fields it lacks around it (core/public_record.py), and rows are read on the connection,
        without the ORM's per-row loading. The inspection type goes in between: the batch's case
        rounds are read once, by key, instead of a look-up of the round on every line (which cost
        the feed a quarter of its speed on PostgreSQL)."""
        record_id = cast(PublicResult.id, String)
        superseded_by = cast(PublicResult.superseded_by_id, String)
        if kind == "csv":
            head = record_id + "," + PublicResult.csv_cells + ","
            tail = "," + func.coalesce(superseded_by, "") + "\r\n"
        else:
            head = '{"record_id":' + record_id + "," + PublicResult.json_members + ',"inspection_type":"'
            tail = '","superseded_by":' + func.coalesce(superseded_by, "null") + "}"
        last = 0
        connection = await self._session.connection()
        while True:
            query = self._filtered(select(PublicResult.id, PublicResult.round_id, head, tail), f)
            rows = (await connection.execute(query.where(PublicResult.id > last).order_by(PublicResult.id).limit(batch))).all()
            if not rows:
                return
            rounds = {round_id for _, round_id, _, _ in rows}
            cases = set((await connection.execute(select(Round.id).where(Round.id.in_(rounds), Round.kind == "case"))).scalars())
            yield [(i, h + ("case" if r in cases else "random") + t) for i, r, h, t in rows]
            last = rows[-1][0]
            if len(rows) < batch:
                return

    async def version(self) -> tuple[int, dt.datetime | None]:
        """(id, publication time) of the newest public record; (0, None) before any."""
        query = select(PublicResult.id, PublicResult.published_at).order_by(PublicResult.id.desc()).limit(1)
        row = (await self._session.execute(query)).first()
        return (row[0], row[1]) if row else (0, None)

    async def published_codes(self, after: str, limit: int) -> list[str]:
        """Codes of targets with a public record, in order after `after` (from the code index)."""
        query = (
            select(PublicResult.target_code)
            .distinct()
            .where(PublicResult.target_code > after)
            .order_by(PublicResult.target_code)
            .limit(limit)
        )
        return list((await self._session.execute(query)).scalars())

    async def public_round_ids(self) -> list[int]:
        query = select(Round.id).where(Round.approved_at.is_not(None)).order_by(Round.id)
        return list((await self._session.execute(query)).scalars())

    async def drawn_round_ids(self) -> list[int]:
        query = select(Draw.round_id).join(Round, Round.id == Draw.round_id)
        query = query.where(Round.approved_at.is_not(None), Draw.drawn_at.is_not(None)).order_by(Draw.round_id)
        return list((await self._session.execute(query)).scalars())

    async def history(self, target_code: str, limit: int) -> list[tuple]:
        """A target's whole public record across departments and rounds, newest first."""
        query = _records().where(PublicResult.target_code == target_code).order_by(PublicResult.id.desc()).limit(limit)
        return list((await self._session.execute(query)).all())

    async def class_changes(self, target_code: str, limit: int) -> list[tuple]:
        """(changed at, from, to, reason, ';'-joined categories) of the target's changes of class, newest first."""
        query = (
            select(CreditChange.changed_at, CreditChange.from_class, CreditChange.to_class, CreditChange.reason, CreditChange.categories)
            .join(Target, Target.id == CreditChange.target_id)
            .where(Target.code == target_code)
            .order_by(CreditChange.id.desc())
            .limit(limit)
        )
        return [tuple(row) for row in await self._session.execute(query)]

    async def first_year(self) -> int | None:
        """The earliest year of a plan or of an approved round's proposal (UTC year: a bound, not a figure)."""
        plan = (await self._session.execute(select(func.min(Plan.year)))).scalar_one()
        created = (await self._session.execute(select(func.min(Round.created_at)).where(Round.approved_at.is_not(None)))).scalar_one()
        years = [y for y in (plan, created.year if created else None) if y]
        return min(years) if years else None

    # ---- approved rounds -------------------------------------------------------------------------

    async def public_round(self, round_id: int) -> Round | None:
        """A round the public may see: approved (and so frozen). Before approval it does not exist."""
        query = select(Round).where(Round.id == round_id, Round.approved_at.is_not(None))
        return (await self._session.execute(query)).scalar_one_or_none()

    async def public_rounds(self, after: int | None, limit: int) -> list[tuple[Round, Department, Draw | None]]:
        query = (
            select(Round, Department, Draw)
            .join(Department, Department.id == Round.lead_department_id)
            .outerjoin(Draw, Draw.round_id == Round.id)
            .where(Round.approved_at.is_not(None))
            .order_by(Round.id.desc())
            .limit(limit)
        )
        if after is not None:
            query = query.where(Round.id < after)
        return [(r, d, w) for r, d, w in await self._session.execute(query)]

    async def participants(self, round_id: int) -> list[tuple[RoundParticipant, Department]]:
        query = (
            select(RoundParticipant, Department)
            .join(Department, Department.id == RoundParticipant.department_id)
            .where(RoundParticipant.round_id == round_id, RoundParticipant.status == "confirmed")
            .order_by(RoundParticipant.is_lead.desc(), Department.code)
        )
        return [(p, d) for p, d in await self._session.execute(query)]

    async def round_items(self, round_id: int) -> list[tuple[CheckItem, Department]]:
        query = (
            select(CheckItem, Department)
            .join(RoundItem, RoundItem.item_id == CheckItem.id)
            .join(Department, Department.id == CheckItem.department_id)
            .where(RoundItem.round_id == round_id)
            .order_by(Department.code, CheckItem.code)
        )
        return [(c, d) for c, d in await self._session.execute(query)]

    async def draw(self, round_id: int) -> Draw | None:
        return (await self._session.execute(select(Draw).where(Draw.round_id == round_id))).scalar_one_or_none()

    async def drawn_targets(self, round_id: int, after: int, limit: int) -> list[tuple[Task, Target, str]]:
        """(task, target, ';'-joined department codes of its team) in visit order after `after`."""
        page = (
            select(Task, Target)
            .join(Target, Target.id == Task.target_id)
            .where(Task.round_id == round_id, Task.visit_order > after)
            .order_by(Task.visit_order)
            .limit(limit)
        )
        rows = [(t, g) for t, g in await self._session.execute(page)]
        if not rows:
            return []
        teams: dict[int, list[str]] = {}
        query = (
            select(TeamMember.task_id, Department.code)
            .distinct()
            .join(Department, Department.id == TeamMember.department_id)
            .where(TeamMember.task_id.in_([t.id for t, _ in rows]))
            .order_by(TeamMember.task_id, Department.code)
        )
        for task_id, code in await self._session.execute(query):
            teams.setdefault(task_id, []).append(code)
        return [(t, g, ";".join(teams.get(t.id, []))) for t, g in rows]

    async def publications(self, round_id: int) -> list[tuple[str, int, dt.datetime, int, int]]:
        """Per department: (code, records, latest publication, on time, late) of the round."""
        query = (
            select(
                Department.code,
                func.count(),
                func.max(PublicResult.published_at),
                func.count().filter(PublicResult.on_time.is_(True)),
                func.count().filter(PublicResult.on_time.is_(False)),
            )
            .join(Department, Department.id == PublicResult.department_id)
            .where(PublicResult.round_id == round_id)
            .group_by(Department.code)
            .order_by(Department.code)
        )
        return [tuple(row) for row in await self._session.execute(query)]

    # ---- lists -----------------------------------------------------------------------------------

    async def departments(self) -> list[Department]:
        return list((await self._session.execute(select(Department).order_by(Department.code))).scalars())

    async def current_items(self) -> list[tuple[CheckItem, Department]]:
        query = (
            select(CheckItem, Department)
            .join(Department, Department.id == CheckItem.department_id)
            .where(CheckItem.is_current.is_(True))
            .order_by(Department.code, CheckItem.category, CheckItem.code)
        )
        return [(c, d) for c, d in await self._session.execute(query)]

    async def items_version(self) -> tuple[int, int]:
        return tuple((await self._session.execute(select(func.count(), func.coalesce(func.max(CheckItem.id), 0)))).one())

    async def plans(self) -> list[Plan]:
        return list((await self._session.execute(select(Plan).order_by(Plan.year.desc(), Plan.region, Plan.title))).scalars())

    async def regions_of(self, codes: Sequence[str]) -> dict[str, str]:
        if not codes:
            return {}
        rows = await self._session.execute(select(Region.code, Region.name).where(Region.code.in_(list(codes))))
        return dict(rows.all())

    async def jurisdictions(self) -> list[str]:
        """The regions rounds were convened in, for the home page."""
        query = select(Round.region).distinct().where(Round.approved_at.is_not(None)).order_by(Round.region)
        return list((await self._session.execute(query)).scalars())
