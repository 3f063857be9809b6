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

from jointcheck.core.authz import Action, Actor, reach
from jointcheck.core.directory_io.errors import RowError
from jointcheck.core.directory_io.report import write_bad_rows_csv
from jointcheck.core.directory_io.validation import validate_file
from jointcheck.core.directory_io.writers import write_table
from jointcheck.core.errors import InvalidInput
from jointcheck.core.repositories.bulk_targets import TargetBulkWriter
from jointcheck.core.repositories.directory_writers import InspectorWriter, ItemWriter
from jointcheck.core.repositories.directory import export_rows
from jointcheck.core.uow import UnitOfWork

KINDS = ("targets", "inspectors", "items")
BATCH = 20_000
STRICT_ERRORS_KEPT = 1000


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
        return InspectorWriter(uow.session, departments, "conflicts" in present)
    return ItemWriter(uow.session, departments)


# ---- export ----------------------------------------------------------------------------------

_DONE = object()


def _all_departments(allowed: dict[str, int], every) -> bool:
    return len(allowed) == len(every)


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
        async for batch in export_rows(uow.session, kind, by_id, restrict=not _all_departments(departments, await uow.departments.all())):
            await asyncio.to_thread(handoff.put, batch)
    finally:
        await asyncio.to_thread(handoff.put, _DONE)
    return await writing
