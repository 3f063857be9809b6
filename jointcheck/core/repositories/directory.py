"""Reading the two directories: lookups and paginated searches, all filtering done in SQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, delete, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from jointcheck.core.models import CheckItem, Conflict, Department, Inspector, JointItem, Target
from jointcheck.core.regions import region_prefix
from jointcheck.core.repositories.bulk_targets import TARGET_COLUMNS


def list_contains(column, value: str) -> ColumnElement[bool]:
    """`column` holds a ';'-joined list; true when `value` is one of its members."""
    return (literal(";") + column + literal(";")).contains(f";{value};", autoescape=True)


def in_region(column, region: str) -> ColumnElement[bool]:
    return column.startswith(region_prefix(region), autoescape=True)


class TargetRepository:
    def __init__(self, session: AsyncSession):
        self._session = session

    async def by_code(self, code: str) -> Target | None:
        return (await self._session.execute(select(Target).where(Target.code == code))).scalar_one_or_none()

    async def search(self, conditions: Sequence[ColumnElement[bool]], after_id: int | None, limit: int) -> list[Target]:
        """One page in id order (keyset pagination: no OFFSET scan however deep the page)."""
        query = select(Target).where(*conditions)
        if after_id is not None:
            query = query.where(Target.id > after_id)
        return list((await self._session.execute(query.order_by(Target.id).limit(limit))).scalars())

    async def count(self) -> int:
        return (await self._session.execute(select(func.count()).select_from(Target))).scalar_one()


class InspectorRepository:
    def __init__(self, session: AsyncSession):
        self._session = session

    async def by_cert_no(self, cert_no: str) -> Inspector | None:
        return (await self._session.execute(select(Inspector).where(Inspector.cert_no == cert_no))).scalar_one_or_none()

    async def by_id(self, inspector_id: int) -> Inspector | None:
        return await self._session.get(Inspector, inspector_id)

    async def search(self, conditions: Sequence[ColumnElement[bool]], after_id: int | None, limit: int) -> list[tuple[Inspector, str]]:
        query = select(Inspector, Department.code).join(Department, Department.id == Inspector.department_id).where(*conditions)
        if after_id is not None:
            query = query.where(Inspector.id > after_id)
        return [(row[0], row[1]) for row in await self._session.execute(query.order_by(Inspector.id).limit(limit))]

    async def conflicts_of(self, inspector_id: int) -> list[Conflict]:
        query = select(Conflict).where(Conflict.inspector_id == inspector_id).order_by(Conflict.target_code)
        return list((await self._session.execute(query)).scalars())

    async def add_conflict(self, inspector_id: int, target_code: str, reason: str) -> Conflict:
        conflict = Conflict(inspector_id=inspector_id, target_code=target_code, reason=reason)
        self._session.add(conflict)
        await self._session.flush()
        return conflict

    async def remove_conflict(self, inspector_id: int, target_code: str) -> int:
        result = await self._session.execute(
            delete(Conflict).where(Conflict.inspector_id == inspector_id, Conflict.target_code == target_code)
        )
        return result.rowcount


class JointItemRepository:
    def __init__(self, session: AsyncSession):
        self._session = session

    async def by_code(self, code: str) -> JointItem | None:
        return (await self._session.execute(select(JointItem).where(JointItem.code == code))).scalar_one_or_none()


async def export_rows(session: AsyncSession, kind: str, department_codes: dict[int, str], *, batch: int = 20_000):
    """Batches of records in the import format, in code order; department_codes maps ids to codes."""
    if kind == "targets":
        query = select(*(getattr(Target, c) for c in TARGET_COLUMNS)).order_by(Target.code)
        stream = await session.stream(query.execution_options(yield_per=batch))
        async for rows in stream.partitions(batch):
            yield [dict(zip(TARGET_COLUMNS, row)) for row in rows]
    elif kind == "inspectors":
        conflicts: dict[int, list[str]] = {}
        for inspector_id, code in await session.execute(select(Conflict.inspector_id, Conflict.target_code).order_by(Conflict.target_code)):
            conflicts.setdefault(inspector_id, []).append(code)
        query = select(Inspector).where(Inspector.department_id.in_(list(department_codes))).order_by(Inspector.cert_no)
        stream = await session.stream_scalars(query.execution_options(yield_per=batch))
        async for rows in stream.partitions(batch):
            yield [
                {
                    "cert_no": i.cert_no,
                    "name": i.name,
                    "department": department_codes[i.department_id],
                    "kind": i.kind,
                    "skills": i.skills,
                    "region": i.region,
                    "status": i.status,
                    "conflicts": ";".join(conflicts.get(i.id, ())),
                }
                for i in rows
            ]
    elif kind == "joint_items":
        fields = ("code", "area", "name", "object_kind", "initiator", "partners")
        rows = (await session.execute(select(*(getattr(JointItem, f) for f in fields)).order_by(JointItem.code))).all()
        yield [dict(zip(fields, row)) for row in rows]
    else:
        query = (
            select(CheckItem)
            .where(CheckItem.is_current.is_(True), CheckItem.department_id.in_(list(department_codes)))
            .order_by(CheckItem.code)
        )
        items = (await session.execute(query)).scalars().all()
        yield [
            {
                "code": i.code,
                "department": department_codes[i.department_id],
                "group": i.item_group,
                "name": i.name,
                "category": i.category,
                "basis": i.basis,
                "subject": i.subject,
                "content": i.content,
                "method": i.method,
                "object_kind": i.object_kind,
                "ratio_cap": i.ratio_cap,
            }
            for i in items
        ]
