"""Rounds, their participants and items, their draw files, tasks and teams."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import operator
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import contextmanager, suppress

from sqlalchemy import ColumnElement, and_, false, func, literal_column, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jointcheck.core.audit import event_record
from jointcheck.core.authz import Reach
from jointcheck.core.models import (
    AuditEvent,
    CheckItem,
    Conflict,
    Department,
    Draw,
    DrawFile,
    Inspector,
    Result,
    Round,
    RoundItem,
    RoundParticipant,
    Target,
    Task,
    TeamMember,
)
from jointcheck.core.public_proof import BundleError, canonical_json, sha256_hex
from jointcheck.core.repositories.directory import in_region

_TARGET_ID = operator.itemgetter(2)
# The bundle's results.csv: its first line names the columns.
RESULTS_CSV_HEADER = (
    "target",
    "item",
    "item_version",
    "category",
    "follow_up",
    "status",
    "published_at",
)  # of a task row as _insert_drawn_sqlite inserts it


class RoundRepository:
    def __init__(self, session: AsyncSession):
        self._session = session

    @property
    def _postgres(self) -> bool:
        return self._session.bind.dialect.name == "postgresql"

    async def get(self, round_id: int, *, for_update: bool = False) -> Round | None:
        query = select(Round).where(Round.id == round_id)
        if for_update:
            query = query.with_for_update()
        return (await self._session.execute(query)).scalar_one_or_none()

    async def add(self, round_: Round) -> Round:
        self._session.add(round_)
        await self._session.flush()
        return round_

    def add_participant(self, participant: RoundParticipant) -> None:
        self._session.add(participant)

    def add_item(self, item: RoundItem) -> None:
        self._session.add(item)

    async def participants(self, round_id: int) -> list[tuple[RoundParticipant, Department]]:
        query = (
            select(RoundParticipant, Department)
            .join(Department, Department.id == RoundParticipant.department_id)
            .where(RoundParticipant.round_id == round_id)
            .order_by(Department.code)
        )
        return [(p, d) for p, d in await self._session.execute(query)]

    async def items(self, round_id: int) -> list[CheckItem]:
        query = (
            select(CheckItem)
            .join(RoundItem, RoundItem.item_id == CheckItem.id)
            .where(RoundItem.round_id == round_id)
            .order_by(CheckItem.code)
        )
        return list((await self._session.execute(query)).scalars())

    async def items_of_department(self, department_id: int) -> list[CheckItem]:
        """A department's current check items, by code: what it may choose when it joins a round."""
        query = select(CheckItem).where(CheckItem.department_id == department_id, CheckItem.is_current.is_(True)).order_by(CheckItem.code)
        return list((await self._session.execute(query)).scalars())

    async def current_items(self, department_id: int, codes: Sequence[str]) -> dict[str, CheckItem]:
        query = select(CheckItem).where(
            CheckItem.department_id == department_id, CheckItem.is_current.is_(True), CheckItem.code.in_(list(codes))
        )
        return {item.code: item for item in (await self._session.execute(query)).scalars()}

    async def visible(self, reach: Reach, status: str | None, limit: int) -> list[Round]:
        """Newest first, the rounds inside this reach: its departments', regions' and inspectors'."""
        clauses = []
        if reach.everything:
            clauses.append(Round.id.is_not(None))
        if reach.departments:
            clauses.append(Round.id.in_(select(RoundParticipant.round_id).where(RoundParticipant.department_id.in_(reach.departments))))
        clauses += [in_region(Round.region, region) for region in reach.regions]
        if reach.inspectors:
            clauses.append(
                Round.id.in_(
                    select(Task.round_id)
                    .join(TeamMember, TeamMember.task_id == Task.id)
                    .where(TeamMember.inspector_id.in_(reach.inspectors))
                )
            )
        query = select(Round).where(or_(*clauses) if clauses else false())
        if status:
            query = query.where(Round.status == status)
        return list((await self._session.execute(query.order_by(Round.id.desc()).limit(limit))).scalars())

    async def team_member_among(self, round_id: int, inspector_ids) -> int | None:
        """One of these inspectors who is on a team of this round, if any."""
        query = (
            select(TeamMember.inspector_id)
            .join(Task, Task.id == TeamMember.task_id)
            .where(Task.round_id == round_id, TeamMember.inspector_id.in_(list(inspector_ids)))
            .limit(1)
        )
        return (await self._session.execute(query)).scalar_one_or_none()

    async def results_csv(self, round_id: int, published_only: bool) -> bytes:
        """results.csv of the bundle: target, item, version, category, follow-up, status, publication."""
        query = (
            select(Target.code, CheckItem.code, CheckItem.version, Result.category, Result.follow_up, Result.status, Result.published_at)
            .join(Task, Task.id == Result.task_id)
            .join(Target, Target.id == Task.target_id)
            .join(CheckItem, CheckItem.id == Result.item_id)
            .where(Task.round_id == round_id)
            .order_by(Task.visit_order, CheckItem.code)
        )
        if published_only:
            query = query.where(Result.status == "published")
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(RESULTS_CSV_HEADER)
        for code, item, version, category, follow_up, status, published_at in await self._session.execute(query):
            writer.writerow([code, item, version, category, follow_up, status, published_at.isoformat() if published_at else ""])
        return out.getvalue().encode("utf-8")

    async def audit_jsonl(self, round_id: int) -> bytes:
        """The round's own events and its tasks' events, one canonical JSON object a line."""
        task_ids = select(Task.id.cast(AuditEvent.entity_id.type)).where(Task.round_id == round_id)
        query = (
            select(AuditEvent)
            .where(
                or_(
                    (AuditEvent.entity == "round") & (AuditEvent.entity_id == str(round_id)),
                    (AuditEvent.entity == "task") & AuditEvent.entity_id.in_(task_ids),
                )
            )
            .order_by(AuditEvent.seq)
        )
        return b"".join(canonical_json(event_record(ev)) + b"\n" for ev in (await self._session.execute(query)).scalars())

    # -- the frozen draw ------------------------------------------------------------------------

    async def draw_of(self, round_id: int) -> Draw | None:
        return (await self._session.execute(select(Draw).where(Draw.round_id == round_id))).scalar_one_or_none()

    async def add_draw(self, draw: Draw, files: dict[str, bytes]) -> Draw:
        self._session.add(draw)
        await self._session.flush()
        for name, content in files.items():
            self.put_file(draw.id, name, content)
        return draw

    def put_file(self, draw_id: int, name: str, content: bytes) -> None:
        self._session.add(DrawFile(draw_id=draw_id, name=name, sha256=sha256_hex(content), content=content))

    async def file(self, draw_id: int, name: str) -> bytes | None:
        query = select(DrawFile.content).where(DrawFile.draw_id == draw_id, DrawFile.name == name)
        return (await self._session.execute(query)).scalar_one_or_none()

    async def claim_draw(self, draw_id: int, now: dt.datetime) -> bool:
        """Compare-and-set: true for exactly one caller, however many race for the same draw."""
        result = await self._session.execute(
            update(Draw).where(Draw.id == draw_id, Draw.seeded_at.is_not(None), Draw.drawn_at.is_(None)).values(drawn_at=now)
        )
        return result.rowcount == 1

    async def _driver(self):
        """The DBAPI driver's own connection, inside this session's transaction."""
        raw = await (await self._session.connection()).get_raw_connection()
        return raw.driver_connection

    @contextmanager
    def _as_sqlalchemy_errors(self, statement: str):
        """Driver errors raised as SQLAlchemy's own (IntegrityError, …), as session.execute raises them."""
        try:
            yield
        except sqlite3.Error as error:
            raise DBAPIError.instance(statement, None, error, sqlite3.Error) from error
        except Exception as error:
            if not type(error).__module__.startswith("asyncpg"):
                raise
            import asyncpg  # only here: installed for PostgreSQL

            kind = IntegrityError if isinstance(error, asyncpg.IntegrityConstraintViolationError) else DBAPIError
            raise kind(statement, None, error) from error

    async def population_lines(
        self, conditions: Sequence[ColumnElement[bool]], by_region: bool, batch: int = 50_000
    ) -> AsyncIterator[list[str]]:
        """population.tsv's lines, `code TAB stratum LF`, of every eligible target, sorted by the
        bytes of the whole line (stratum: the risk class, or `risk/region` when `by_region`).

        Whenever no code holds a character below TAB that is the order by code the file needs;
        the caller checks it, as it checks everything else about the file. The database builds the
        lines and sorts them as they are: one short text per row is the least there is to sort
        and to hand over, and at ten million targets the sort and the hand-over are the freeze.
        """
        stratum = Target.risk.concat("/").concat(Target.region) if by_region else Target.risk
        line = Target.code.concat("\t").concat(stratum).concat("\n")
        query = select(line).where(*conditions)
        if self._postgres:
            async for lines in self._population_lines_postgres(select(Target.code, stratum).where(*conditions).order_by(line.collate("C"))):
                yield lines
            return
        # Through the driver's own cursor: SQLAlchemy's result machinery costs several times what
        # SQLite takes to produce the rows. The SQL is compiled from the same conditions, with the
        # values rendered by SQLAlchemy. Sorted by the result column itself, so that the sorter
        # holds each line once rather than a key and a copy. Not `ORDER BY code` either: walking
        # the code index visits the table in random order, a page read per row once the
        # directory outgrows the cache.
        sql = str(query.order_by(literal_column("1")).compile(dialect=self._session.bind.dialect, compile_kwargs={"literal_binds": True}))
        with self._as_sqlalchemy_errors(sql):
            cursor = await (await self._driver()).execute(sql)
        try:
            while True:
                with self._as_sqlalchemy_errors(sql):
                    rows = await cursor.fetchmany(batch)
                if not rows:
                    break
                yield [value for (value,) in rows]
        finally:
            await cursor.close()

    async def _population_lines_postgres(self, query) -> AsyncIterator[list[str]]:
        """population_lines on PostgreSQL: the two columns by COPY … TO STDOUT, whose rows are the
        lines themselves, tab between and LF after; SQLAlchemy's rows and asyncpg's records cost
        several times the query. COPY's text escapes a backslash and the control characters \\b
        \\f \\n \\r \\t \\v with a backslash, so output without one is exactly the lines; with
        one, the COPY is read to its end (a cancelled statement would abort the transaction) and
        BundleError says the database cannot give the lines as they are."""
        dialect = self._session.bind.dialect
        expanded = query.compile(dialect=dialect).construct_expanded_state()
        sql = expanded.statement
        arguments = [
            expanded.processors[name](expanded.parameters[name]) if name in expanded.processors else expanded.parameters[name]
            for name in expanded.positiontup
        ]
        driver = await self._driver()
        chunks: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=8)

        async def copy() -> None:
            try:
                with self._as_sqlalchemy_errors(sql):
                    await driver.copy_from_query(sql, *arguments, output=chunks.put)
            finally:
                await chunks.put(None)  # the end, or a failure that awaiting the task raises

        copying = asyncio.create_task(copy())
        try:
            rest, escaped = b"", False
            while (chunk := await chunks.get()) is not None:
                if escaped or b"\\" in chunk:
                    escaped = True
                    continue
                rest += chunk
                cut = rest.rfind(b"\n") + 1
                if cut:
                    text, rest = rest[:cut].decode("utf-8"), rest[cut:]
                    yield [f"{row}\n" for row in text[:-1].split("\n")]
            await copying
            if escaped:
                raise BundleError("a code or stratum holds a backslash or a control character that COPY escapes")
            if rest:  # COPY ends every row with LF: nothing can be left
                raise RuntimeError("COPY ended in the middle of a row")
        finally:
            if not copying.done():
                copying.cancel()
                with suppress(asyncio.CancelledError):
                    await copying

    async def population(self, conditions: Sequence[ColumnElement[bool]]) -> list[tuple[str, str, str]]:
        """(code, risk, region) of every eligible target, in no particular order: population_lines'
        fallback, for a directory whose lines the database does not sort into a valid file."""
        return [
            (code, risk, region)
            for code, risk, region in await self._session.execute(select(Target.code, Target.risk, Target.region).where(*conditions))
        ]

    async def pools(self, department_ids: Sequence[int]) -> list[tuple[str, str]]:
        """(department code, certificate number) of every active law-enforcement inspector."""
        query = (
            select(Department.code, Inspector.cert_no)
            .join(Department, Department.id == Inspector.department_id)
            .where(Inspector.department_id.in_(list(department_ids)), Inspector.kind == "enforcement", Inspector.status == "active")
        )
        return [(d, c) for d, c in await self._session.execute(query)]

    async def conflicts(self, department_ids: Sequence[int], population: Sequence[ColumnElement[bool]]) -> list[tuple[str, str]]:
        """(certificate number, target code) for pool inspectors and population targets only."""
        # A join on the unique code rather than `target_code IN (eligible codes)`: the subquery
        # made SQLite evaluate the whole population once more (a full scan of the directory) even
        # when there are no conflicts; the join looks up just the conflicts' own targets.
        query = (
            select(Inspector.cert_no, Conflict.target_code)
            .join(Inspector, Inspector.id == Conflict.inspector_id)
            .join(Target, Target.code == Conflict.target_code)
            .where(
                Inspector.department_id.in_(list(department_ids)),
                Inspector.kind == "enforcement",
                Inspector.status == "active",
                *population,
            )
        )
        return [(i, t) for i, t in await self._session.execute(query)]

    # -- tasks -----------------------------------------------------------------------------------

    async def insert_drawn(
        self,
        round_id: int,
        tasks: Sequence[tuple[str, str, str, int, int | None]],
        team: Sequence[tuple[int, str, str, int]],
        due_date: dt.date | None,
    ) -> None:
        """A draw's tasks and their teams.

        tasks: (target code, stratum, ticket hex, visit order, batch), in visit order, each given
        the next task id. team: (visit order, department code, certificate number, position in
        that department's team). Rows naming a target, task, inspector or department that does not
        exist insert nothing. The department is the one of the frozen pools (assignments.tsv),
        never the inspector's department today: someone moved between freeze and draw still
        serves for the old one.
        """
        if not self._postgres:
            await self._insert_drawn_sqlite(round_id, tasks, team, due_date)
            return
        await self._insert_drawn_postgres(round_id, tasks, team, due_date)

    async def _insert_drawn_postgres(
        self,
        round_id: int,
        tasks: Sequence[tuple[str, str, str, int, int | None]],
        team: Sequence[tuple[int, str, str, int]],
        due_date: dt.date | None,
    ) -> None:
        """What insert_drawn says, as COPY into temporary tables and one INSERT … SELECT each for
        the tasks and the team members: a round can have a million tasks, and an INSERT per row
        (even pipelined) took most of a draw's time. Ids follow visit order, then the team's order,
        as inserting row by row would give them; the joins drop rows naming nothing.
        """
        driver = await self._driver()
        statements = (
            "CREATE TEMPORARY TABLE drawn_tasks (code text, stratum text, ticket text, visit_order integer, batch integer) ON COMMIT DROP",
            "CREATE TEMPORARY TABLE drawn_team (seq integer, visit_order integer, department text, cert_no text, position integer) "
            "ON COMMIT DROP",
        )
        for statement in statements:
            with self._as_sqlalchemy_errors(statement):
                await driver.execute(statement)
        with self._as_sqlalchemy_errors("COPY drawn_tasks"):
            await driver.copy_records_to_table("drawn_tasks", records=tasks, columns=("code", "stratum", "ticket", "visit_order", "batch"))
            await driver.copy_records_to_table(
                "drawn_team",
                records=((seq, *row) for seq, row in enumerate(team)),
                columns=("seq", "visit_order", "department", "cert_no", "position"),
            )
        statements = (
            "ANALYZE drawn_tasks",
            "ANALYZE drawn_team",
            "INSERT INTO tasks (round_id, target_id, stratum, ticket, visit_order, batch, source, status, due_date) "
            "SELECT $1, t.id, d.stratum, d.ticket, d.visit_order, d.batch, 'draw', 'assigned', $2 "
            "FROM drawn_tasks d JOIN targets t ON t.code = d.code ORDER BY d.visit_order",
            "INSERT INTO team_members (task_id, inspector_id, department_id, position, source, reason) "
            "SELECT t.id, i.id, p.id, d.position, 'draw', '' FROM drawn_team d "
            "JOIN tasks t ON t.round_id = $1 AND t.visit_order = d.visit_order "
            "JOIN inspectors i ON i.cert_no = d.cert_no JOIN departments p ON p.code = d.department ORDER BY d.seq",
            "DROP TABLE drawn_tasks, drawn_team",
        )
        for statement in statements:
            arguments = (round_id, due_date) if "$2" in statement else (round_id,) if "$1" in statement else ()
            with self._as_sqlalchemy_errors(statement):
                await driver.execute(statement, *arguments)

    async def _insert_drawn_sqlite(
        self,
        round_id: int,
        tasks: Sequence[tuple[str, str, str, int, int | None]],
        team: Sequence[tuple[int, str, str, int]],
        due_date: dt.date | None,
    ) -> None:
        """What insert_drawn's INSERT … SELECTs do, with the joins done once in memory and plain
        VALUES rows straight to sqlite3's executemany: a round can have a million tasks, and
        SQLAlchemy's per-row dicts would cost more than the inserts themselves.

        Each task gets the id that inserting in visit order would give it (the next rowid: the
        table has no AUTOINCREMENT, and the write lock is held, so no one else takes one), but the
        rows go in by ascending target id: the foreign key check on target_id then reads the
        directory front to back instead of one random page per task, which at ten million targets
        was most of the insert's time. The date goes in as SQLAlchemy's SQLite Date type stores it.
        """
        driver = await self._driver()
        target_of = await self._ids_by_key(driver, "SELECT code, id FROM targets WHERE code IN", (code for code, *_ in tasks))
        ((first,),) = await driver.execute_fetchall("SELECT coalesce(max(id), 0) + 1 FROM tasks")
        due = due_date.isoformat() if due_date is not None else None
        task_rows = [
            (first + n, round_id, target_of[code], stratum, ticket, order, batch, due)
            for n, (code, stratum, ticket, order, batch) in enumerate(row for row in tasks if row[0] in target_of)
        ]
        del target_of
        task_of = {order: task_id for task_id, _, _, _, _, order, _, _ in task_rows}
        task_rows.sort(key=_TARGET_ID)
        statement = (
            "INSERT INTO tasks (id, round_id, target_id, stratum, ticket, visit_order, batch, source, status, due_date) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'draw', 'assigned', ?)"
        )
        with self._as_sqlalchemy_errors(statement):
            await driver.executemany(statement, task_rows)
        del task_rows

        department_of = dict(await driver.execute_fetchall("SELECT code, id FROM departments"))
        inspector_of = await self._ids_by_key(
            driver, "SELECT cert_no, id FROM inspectors WHERE cert_no IN", (cert for _, _, cert, _ in team)
        )
        team_rows = [
            (task_of[v], inspector_of[c], department_of[d], p)
            for v, d, c, p in team
            if v in task_of and c in inspector_of and d in department_of
        ]
        statement = (
            "INSERT INTO team_members (task_id, inspector_id, department_id, position, source, reason) VALUES (?, ?, ?, ?, 'draw', '')"
        )
        with self._as_sqlalchemy_errors(statement):
            await driver.executemany(statement, team_rows)

    async def _ids_by_key(self, driver, query: str, keys) -> dict:
        """{key: id} for `query` (ending in `key_column IN`) over the distinct keys that exist.

        Asked in ascending key order, so that the lookups walk the key's index front to back.
        """
        keys = sorted(set(keys))
        found: dict = {}
        for start in range(0, len(keys), 500):  # under SQLite's limit on bound parameters
            chunk = keys[start : start + 500]
            with self._as_sqlalchemy_errors(query):
                found.update(await driver.execute_fetchall(f"{query} ({', '.join('?' * len(chunk))})", chunk))
        return found

    async def inspector_ids(self, cert_nos: Sequence[str]) -> dict[str, int]:
        query = select(Inspector.cert_no, Inspector.id).where(Inspector.cert_no.in_(list(cert_nos)))
        return {c: i for c, i in await self._session.execute(query)}

    async def task_count(self, round_id: int) -> int:
        return (await self._session.execute(select(func.count()).select_from(Task).where(Task.round_id == round_id))).scalar_one()

    async def task(self, task_id: int) -> Task | None:
        return await self._session.get(Task, task_id)

    async def team(self, task_id: int) -> list[tuple[TeamMember, Inspector]]:
        query = (
            select(TeamMember, Inspector)
            .join(Inspector, Inspector.id == TeamMember.inspector_id)
            .where(TeamMember.task_id == task_id)
            .order_by(TeamMember.department_id, TeamMember.position)
        )
        return [(m, i) for m, i in await self._session.execute(query)]

    async def short_teams(self, round_id: int, offset: int, limit: int) -> list[tuple[int, str, str, int, int]]:
        """(task id, target code, department code, members, team size) for each task of the round
        and confirmed participant whose team has fewer members than its size (experts, who come on
        top, not counted), in visit order."""
        members = func.count(TeamMember.id)
        query = (
            select(Task.id, Target.code, Department.code, members, RoundParticipant.team_size)
            .join(Target, Target.id == Task.target_id)
            .join(RoundParticipant, and_(RoundParticipant.round_id == Task.round_id, RoundParticipant.status == "confirmed"))
            .join(Department, Department.id == RoundParticipant.department_id)
            .outerjoin(
                TeamMember,
                and_(
                    TeamMember.task_id == Task.id,
                    TeamMember.department_id == RoundParticipant.department_id,
                    TeamMember.source != "expert",
                ),
            )
            .where(Task.round_id == round_id)
            .group_by(Task.id, Task.visit_order, Target.code, Department.code, RoundParticipant.team_size)
            .having(members < RoundParticipant.team_size)
            .order_by(Task.visit_order, Department.code)
            .offset(offset)
            .limit(limit)
        )
        return [tuple(row) for row in await self._session.execute(query)]

    def add_team_member(self, member: TeamMember) -> None:
        self._session.add(member)

    async def codes_with_open_cases(self, conditions: Sequence[ColumnElement[bool]]) -> list[str]:
        """Codes of the targets meeting `conditions` (which name the open cases), sorted."""
        query = select(Target.code).where(*conditions).order_by(Target.code)
        return list((await self._session.execute(query)).scalars())
