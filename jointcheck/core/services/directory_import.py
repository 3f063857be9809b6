"""Importing and exporting the item list and the two directories (一单两库), CSV or XLSX.

One pass over the file: rows are validated and written in batches inside one transaction. Unless
bad rows may be skipped, the first bad row stops the writing (validation goes on, to report every
bad row) and the transaction is rolled back, so a failed import leaves the database as it was.
"""

from __future__ import annotations

import asyncio
import hashlib
import queue
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from jointcheck.core.authz import Action, Actor, reach
from jointcheck.core.directory_io.errors import RowError
from jointcheck.core.directory_io.report import write_bad_rows_csv
from jointcheck.core.directory_io.validation import validate_file
from jointcheck.core.directory_io.writers import write_table
from jointcheck.core.errors import InvalidInput
from jointcheck.core.models import CheckItem, Conflict, Inspector, Target
from jointcheck.core.repositories.bulk_targets import TARGET_COLUMNS, TargetBulkWriter
from jointcheck.core.repositories.directory import list_contains
from jointcheck.core.uow import UnitOfWork

KINDS = ("targets", "inspectors", "items")
BATCH = 20_000
STRICT_ERRORS_KEPT = 1000
# ON CONFLICT DO UPDATE is spelled alike by both, but each dialect has its own construct.
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


@dataclass
class ImportResult:
    kind: str
    rows_read: int = 0
    good: int = 0
    bad_rows: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    errors_truncated: bool = False
    written: int = 0
    imported: bool = False
    dry_run: bool = False
    bad_rows_file: Path | None = None
    file_sha256: str = ""


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


async def _department_codes(uow: UnitOfWork, actor: Actor) -> dict[str, int]:
    """Departments this actor may load rows for: all for the operator, an officer's own otherwise."""
    allowed = reach(actor, Action.DIRECTORY_IMPORT)
    return {d.code: d.id for d in await uow.departments.all() if allowed.everything or d.id in allowed.departments}


async def import_directory(
    uow: UnitOfWork,
    actor: Actor,
    kind: str,
    path: str | Path,
    *,
    skip_bad_rows: bool = False,
    bad_rows_path: str | Path | None = None,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Validate and upsert; commits only when the import is to be kept. The caller owns `uow`."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown directory {kind!r}; expected one of {', '.join(KINDS)}")
    if skip_bad_rows and bad_rows_path is None:
        raise InvalidInput("--skip-bad-rows needs a file for the bad rows")
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    departments = await _department_codes(uow, actor)
    hashing = asyncio.ensure_future(asyncio.to_thread(_sha256_of, path))
    result = ImportResult(kind=kind, dry_run=dry_run)
    validation = validate_file(kind, path, departments, max_errors=None if skip_bad_rows else STRICT_ERRORS_KEPT)
    writer = _writer(kind, uow, departments, validation.present)
    in_flight: asyncio.Future | None = None
    with validation:
        batch: list[tuple] = []
        for record in validation.tuples():
            batch.append(record)
            if len(batch) >= BATCH:
                in_flight = await _hand_over(in_flight, writer, batch, validation, skip_bad_rows, dry_run)
                batch = []
                if progress:
                    progress(validation.rows_read)
        in_flight = await _hand_over(in_flight, writer, batch, validation, skip_bad_rows, dry_run)
        if in_flight is not None:
            await in_flight
        if not dry_run and (skip_bad_rows or not validation.error_count):
            await writer.finish()
        if progress:
            progress(validation.rows_read)
    result.file_sha256 = await hashing
    result.rows_read, result.good = validation.rows_read, validation.rows_ok
    result.bad_rows, result.error_count = validation.bad_row_count, validation.error_count
    result.errors, result.errors_truncated = list(validation.errors), validation.truncated
    result.written = writer.changed
    if validation.error_count and not skip_bad_rows or dry_run:
        await uow.rollback()
        return result
    if validation.bad_row_count:
        result.bad_rows_file = Path(bad_rows_path)
        write_bad_rows_csv(result.bad_rows_file, validation.header, validation.bad_rows, kind=kind)
    await uow.audit.record(actor, "directory.imported", "directory", kind, {
        "file": path.name, "sha256": result.file_sha256, "rows": result.rows_read, "good": result.good,
        "bad": result.bad_rows, "written": result.written, "skip_bad_rows": skip_bad_rows,
    })
    await uow.commit()
    result.imported = True
    return result


async def _hand_over(in_flight, writer, batch, validation, skip_bad_rows, dry_run):
    """Start writing `batch` while the next one is validated; one write in flight at a time."""
    if in_flight is not None:
        await in_flight
    if not batch or dry_run or (validation.error_count and not skip_bad_rows):
        return None
    task = asyncio.ensure_future(writer.write(batch))
    # Let the write reach the driver's thread before validation takes the event loop back.
    for _ in range(3):
        await asyncio.sleep(0)
    return task


def _writer(kind: str, uow: UnitOfWork, departments: dict[str, int], present: tuple[str, ...]):
    if kind == "targets":
        return TargetBulkWriter(uow.session)
    if kind == "inspectors":
        return _InspectorWriter(uow, departments, "conflicts" in present)
    return _ItemWriter(uow, departments)


class _InspectorWriter:
    """Upsert by certificate number; a file with a conflicts column sets each listed inspector's conflicts."""

    def __init__(self, uow: UnitOfWork, departments: dict[str, int], replace_conflicts: bool):
        self._session = uow.session
        self._departments = departments
        self._replace_conflicts = replace_conflicts
        self.changed = 0

    async def finish(self) -> None:
        pass

    async def write(self, rows: list[tuple]) -> None:
        insert = _INSERTS[self._session.bind.dialect.name]
        values = [
            {"cert_no": c, "name": n, "department_id": self._departments[d], "kind": k, "skills": s, "region": r, "status": "active"}
            for c, n, d, k, s, r, _ in rows
        ]
        statement = insert(Inspector).values(values)
        columns = ("name", "department_id", "kind", "skills", "region", "status")
        statement = statement.on_conflict_do_update(
            index_elements=[Inspector.cert_no], set_={c: statement.excluded[c] for c in columns}
        )
        await self._session.execute(statement)
        self.changed += len(values)
        if not self._replace_conflicts:
            return
        ids = dict((await self._session.execute(
            select(Inspector.cert_no, Inspector.id).where(Inspector.cert_no.in_([r[0] for r in rows]))
        )).all())
        await self._session.execute(delete(Conflict).where(Conflict.inspector_id.in_(list(ids.values()))))
        conflicts = [
            {"inspector_id": ids[cert], "target_code": code, "reason": "import"}
            for cert, *_, listed in rows for code in (listed.split(";") if listed else ())
        ]
        if conflicts:
            await self._session.execute(insert(Conflict).values(conflicts))


class _ItemWriter:
    """A changed item becomes a new version; the old one stays for the rounds that use it."""

    FIELDS = ("department_id", "name", "category", "basis", "subject", "content", "method", "object_kind", "ratio_cap")

    def __init__(self, uow: UnitOfWork, departments: dict[str, int]):
        self._session = uow.session
        self._departments = departments
        self.changed = 0

    async def finish(self) -> None:
        pass

    async def write(self, rows: list[tuple]) -> None:
        codes = [r[0] for r in rows]
        current = {
            item.code: item for item in (await self._session.execute(
                select(CheckItem).where(CheckItem.code.in_(codes), CheckItem.is_current.is_(True))
            )).scalars()
        }
        for code, department, name, category, basis, subject, content, method, object_kind, ratio_cap in rows:
            values = dict(zip(self.FIELDS, (self._departments[department], name, category, basis, subject, content, method, object_kind, ratio_cap)))
            old = current.get(code)
            if old is not None and all(getattr(old, f) == v for f, v in values.items()):
                continue
            if old is not None:
                old.is_current = False
                await self._session.flush()
            self._session.add(CheckItem(code=code, version=(old.version + 1) if old else 1, is_current=True, **values))
            self.changed += 1
        await self._session.flush()


# ---- export ----------------------------------------------------------------------------------

_DONE = object()


async def export_directory(uow: UnitOfWork, actor: Actor, kind: str, path: str | Path, *, language: str = "en") -> int:
    """Stream a directory out to CSV or XLSX (by extension), in the import format, so it re-imports."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown directory {kind!r}; expected one of {', '.join(KINDS)}")
    departments = await _department_codes(uow, actor)
    by_id = {i: c for c, i in departments.items()}
    handoff: queue.Queue = queue.Queue(maxsize=4)

    def records():
        while (batch := handoff.get()) is not _DONE:
            yield from batch

    writing = asyncio.ensure_future(asyncio.to_thread(write_table, Path(path), kind, records(), language=language))
    try:
        async for batch in _export_batches(uow, kind, by_id):
            await asyncio.to_thread(handoff.put, batch)
    finally:
        await asyncio.to_thread(handoff.put, _DONE)
    return await writing


async def _export_batches(uow: UnitOfWork, kind: str, department_codes: dict[int, str]):
    session = uow.session
    if kind == "targets":
        query = select(*(getattr(Target, c) for c in TARGET_COLUMNS)).order_by(Target.code)
        if department_codes and len(department_codes) < len(await uow.departments.all()):
            query = query.where(or_(*(list_contains(Target.departments, c) for c in department_codes.values())))
        stream = await session.stream(query.execution_options(yield_per=BATCH))
        async for rows in stream.partitions(BATCH):
            yield [dict(zip(TARGET_COLUMNS, row)) for row in rows]
    elif kind == "inspectors":
        conflicts: dict[int, list[str]] = {}
        for inspector_id, code in await session.execute(select(Conflict.inspector_id, Conflict.target_code).order_by(Conflict.target_code)):
            conflicts.setdefault(inspector_id, []).append(code)
        query = select(Inspector).where(Inspector.department_id.in_(list(department_codes))).order_by(Inspector.cert_no)
        stream = await session.stream_scalars(query.execution_options(yield_per=BATCH))
        async for rows in stream.partitions(BATCH):
            yield [{
                "cert_no": i.cert_no, "name": i.name, "department": department_codes[i.department_id], "kind": i.kind,
                "skills": i.skills, "region": i.region, "conflicts": ";".join(conflicts.get(i.id, ())),
            } for i in rows]
    else:
        query = select(CheckItem).where(CheckItem.is_current.is_(True), CheckItem.department_id.in_(list(department_codes))).order_by(CheckItem.code)
        items = (await session.execute(query)).scalars().all()
        yield [{
            "code": i.code, "department": department_codes[i.department_id], "name": i.name, "category": i.category,
            "basis": i.basis, "subject": i.subject, "content": i.content, "method": i.method,
            "object_kind": i.object_kind, "ratio_cap": i.ratio_cap,
        } for i in items]

