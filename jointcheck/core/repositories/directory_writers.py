"""Upserting imported inspectors and items, batch by batch, in the caller's transaction."""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from jointcheck.core.models import CheckItem, Conflict, Inspector, JointItem

# ON CONFLICT DO UPDATE is spelled alike by both, but each dialect has its own construct.
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
# The reason recorded on recusals that came from an import file.
IMPORTED = "import"


class InspectorWriter:
    """Upsert by certificate number, changing only the columns the file has.

    With a conflicts column, each listed inspector's imported recusals become exactly the listed
    ones; recusals an officer added by hand (with their own reason) are left alone.
    """

    FIELDS = {"name": "name", "department": "department_id", "kind": "kind", "skills": "skills", "region": "region", "status": "status"}
    CHUNK = 1000  # rows per statement: SQLite allows 32,766 bound values

    def __init__(self, session: AsyncSession, departments: dict[str, int], present: tuple[str, ...]):
        self._session = session
        self._departments = departments
        self._updated = [column for key, column in self.FIELDS.items() if key in present]
        self._replace_conflicts = "conflicts" in present
        self.changed = 0

    async def finish(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def write(self, rows: list[tuple]) -> None:
        for start in range(0, len(rows), self.CHUNK):
            await self._write(rows[start : start + self.CHUNK])

    async def _write(self, rows: list[tuple]) -> None:
        insert = _INSERTS[self._session.bind.dialect.name]
        statement = insert(Inspector).values(
            [
                {"cert_no": c, "name": n, "department_id": self._departments[d], "kind": k, "skills": s, "region": r, "status": st}
                for c, n, d, k, s, r, st, _ in rows
            ]
        )
        if self._updated:
            statement = statement.on_conflict_do_update(
                index_elements=[Inspector.cert_no],
                set_={c: statement.excluded[c] for c in self._updated},
                where=or_(*(getattr(Inspector, c).is_distinct_from(statement.excluded[c]) for c in self._updated)),
            )
        else:
            statement = statement.on_conflict_do_nothing(index_elements=[Inspector.cert_no])
        self.changed += (await self._session.execute(statement)).rowcount
        if not self._replace_conflicts:
            return
        ids = dict(
            (await self._session.execute(select(Inspector.cert_no, Inspector.id).where(Inspector.cert_no.in_([r[0] for r in rows])))).all()
        )
        await self._session.execute(delete(Conflict).where(Conflict.inspector_id.in_(list(ids.values())), Conflict.reason == IMPORTED))
        conflicts = [
            {"inspector_id": ids[cert], "target_code": code, "reason": IMPORTED}
            for cert, *_, listed in rows
            for code in (listed.split(";") if listed else ())
        ]
        if conflicts:
            await self._session.execute(
                insert(Conflict).values(conflicts).on_conflict_do_nothing(index_elements=[Conflict.inspector_id, Conflict.target_code])
            )


class ItemWriter:
    """A changed item becomes a new version; the old one stays for the rounds that use it."""

    FIELDS = ("department_id", "item_group", "name", "category", "basis", "subject", "content", "method", "object_kind", "ratio_cap")

    def __init__(self, session: AsyncSession, departments: dict[str, int]):
        self._session = session
        self._departments = departments
        self.changed = 0

    async def finish(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def write(self, rows: list[tuple]) -> None:
        codes = [r[0] for r in rows]
        current = {
            item.code: item
            for item in (
                await self._session.execute(select(CheckItem).where(CheckItem.code.in_(codes), CheckItem.is_current.is_(True)))
            ).scalars()
        }
        for code, department, *rest in rows:
            values = dict(zip(self.FIELDS, (self._departments[department], *rest)))
            old = current.get(code)
            if old is not None and all(getattr(old, f) == v for f, v in values.items()):
                continue
            if old is not None:
                old.is_current = False
                await self._session.flush()
            self._session.add(CheckItem(code=code, version=(old.version + 1) if old else 1, is_current=True, **values))
            self.changed += 1
        await self._session.flush()


class JointItemWriter:
    """Upserts entries of the joint item list by code (a few hundred rows)."""

    FIELDS = ("area", "name", "object_kind", "initiator", "partners")

    def __init__(self, session: AsyncSession):
        self._session = session
        self.changed = 0

    async def finish(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def write(self, rows: list[tuple]) -> None:
        insert = _INSERTS[self._session.bind.dialect.name]
        statement = insert(JointItem).values([dict(zip(("code", *self.FIELDS), row)) for row in rows])
        statement = statement.on_conflict_do_update(
            index_elements=[JointItem.code],
            set_={c: statement.excluded[c] for c in self.FIELDS},
            where=or_(*(getattr(JointItem, c).is_distinct_from(statement.excluded[c]) for c in self.FIELDS)),
        )
        self.changed += (await self._session.execute(statement)).rowcount
