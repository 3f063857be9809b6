"""Importing and exporting the item list and the two directories (一单两库), CSV or XLSX.

One pass over the file: rows are validated and written in batches inside one transaction. Unless
bad rows may be skipped, the first bad row stops the writing (validation goes on, to report every
bad row) and the transaction is rolled back, so a failed import leaves the database as it was.
A CSV of targets is first tried column by column (`directory_io.columnar`); should that pass give
up midway, what it wrote is rolled back and the row-by-row pass starts again from the top.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import queue
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from jointcheck.core.authz import Action, Actor, authorize
from jointcheck.core.directory_io.errors import RowError
from jointcheck.core.directory_io.passes import WORKER_THRESHOLD_BYTES, Outcome, Pass, Restart
from jointcheck.core.directory_io.report import write_bad_rows_csv
from jointcheck.core.directory_io.schemas import ColumnMapping
from jointcheck.core.directory_io.validation import validate_file
from jointcheck.core.directory_io.writers import write_table
from jointcheck.core.errors import InvalidInput
from jointcheck.core.repositories.bulk_targets import TargetBulkWriter
from jointcheck.core.repositories.directory import export_rows
from jointcheck.core.repositories.directory_writers import InspectorWriter, ItemWriter, JointItemWriter
from jointcheck.core.services.departments import department_spellings
from jointcheck.core.uow import UnitOfWork

KINDS = ("targets", "inspectors", "items", "joint-items")
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
    layout: list[tuple[str, dict]] = field(default_factory=list)  # how the file's layout was read
    ignored_columns: list[str] = field(default_factory=list)
    generated_codes: list[tuple[str, str]] = field(default_factory=list)  # (code, name) of items the file gave none


def _check_kind(kind: str) -> str:
    """The kind as the schemas name it ('joint-items' -> 'joint_items')."""
    if kind.replace("_", "-") not in KINDS:
        raise InvalidInput(f"unknown directory {kind!r}; expected one of {', '.join(KINDS)}")
    return kind.replace("-", "_")


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


async def _department_codes(uow: UnitOfWork, actor: Actor) -> dict[str, int]:
    authorize(actor, Action.DIRECTORY_IMPORT)
    return {d.code: d.id for d in await uow.departments.all()}


@dataclass
class ImportOptions:
    """How to read a register as it is: `sheet` (name or 1-based number), the column mapping
    (--map, --map-file, --set, --ignore-unknown) and --region-from-address."""

    sheet: str | None = None
    mapping: ColumnMapping = field(default_factory=ColumnMapping)
    region_from_address: bool = False

    def as_json(self) -> dict:
        return {"sheet": self.sheet, "mapping": self.mapping.as_json(), "region_from_address": self.region_from_address}


@dataclass
class ColumnReading:
    header: str
    key: str | None  # None: left out
    label: str  # '统一社会信用代码 (code)', or why it is left out


def read_columns(kind: str, path: str | Path, options: ImportOptions | None = None) -> tuple[list[ColumnReading], list[tuple[str, dict]]]:
    """How each column of the file would be understood, and the layout found (--show-mapping).
    Raises HeaderError when columns are unknown, missing or duplicated."""
    kind = _check_kind(kind)
    options = options or ImportOptions()
    validation = validate_file(
        kind, Path(path), (), sheet=options.sheet, mapping=options.mapping, region_from_address=options.region_from_address
    )
    try:
        readings = []
        for cell, key in zip(validation.header, validation.keys):
            if key is not None:
                readings.append(ColumnReading(cell, key, validation.schema.label(key)))
            elif cell.strip():
                readings.append(ColumnReading(cell, None, ""))
        return readings, list(validation.layout.notes) if validation.layout else []
    finally:
        validation.close()


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
    options: ImportOptions | None = None,
    language: str = "en",
    keep_all_errors: bool = False,
) -> ImportResult:
    """Validate and upsert; commits only when the import is to be kept. The caller owns `uow`.
    `keep_all_errors`: every error is kept in the result (for a report file), not the first 1,000."""
    kind = _check_kind(kind)
    if skip_bad_rows and bad_rows_path is None:
        raise InvalidInput("skipping bad rows needs a file to write them to, with their reasons")
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    departments = await _department_codes(uow, actor)
    spellings = await department_spellings(uow)
    options = options or ImportOptions()
    hashing = asyncio.ensure_future(asyncio.to_thread(_sha256_of, path))
    result = ImportResult(kind=kind, dry_run=dry_run)
    strict = not skip_bad_rows
    validation = Pass(
        kind,
        path,
        spellings,
        options=options.as_json(),
        max_errors=STRICT_ERRORS_KEPT if strict and not keep_all_errors else None,
        batch=BATCH,
        stop_at_error=strict or dry_run,
        in_worker=path.stat().st_size >= WORKER_THRESHOLD_BYTES,
        # Sorted targets halve SQLite's upserts into a directory with its code index; PostgreSQL
        # sorts them itself, building the index or upserting.
        in_key_order=uow.session.bind.dialect.name == "sqlite",
    )
    writer = None
    try:
        async with contextlib.aclosing(_messages_of(validation)) as messages:
            start = await anext(messages)
            writer = _writer(kind, uow, departments, start.present)
            async for message in messages:
                if isinstance(message, Outcome):
                    outcome = message
                    break
                if isinstance(message, Restart):
                    # The columnar pass met a row it could not prove good: its writes go, and the
                    # row-by-row pass, which reports what is wrong, starts over.
                    await writer.close()
                    await uow.rollback()
                    start = await anext(messages)
                    writer = _writer(kind, uow, departments, start.present)
                    continue
                if not dry_run and (skip_bad_rows or not message.error_count):
                    await writer.write(message.records)
                if progress:
                    progress(message.rows_read)
        if not dry_run and (skip_bad_rows or not outcome.error_count):
            await writer.finish()
    finally:
        validation.close()
        if writer is not None:
            await writer.close()
    if progress:
        progress(outcome.rows_read)
    result.file_sha256 = await hashing
    result.rows_read, result.good = outcome.rows_read, outcome.rows_ok
    result.bad_rows, result.error_count = outcome.bad_row_count, outcome.error_count
    result.errors, result.errors_truncated = outcome.errors, outcome.truncated
    result.written = writer.changed
    result.layout, result.ignored_columns = outcome.layout, list(start.ignored)
    result.generated_codes = outcome.generated
    if outcome.error_count and strict or dry_run:
        await uow.rollback()
        return result
    if outcome.bad_row_count:
        result.bad_rows_file = Path(bad_rows_path)
        write_bad_rows_csv(result.bad_rows_file, start.header, outcome.bad_rows, kind=kind, language=language)
    await uow.audit.record(
        actor,
        "directory.imported",
        "directory",
        kind,
        {
            "file": path.name,
            "sha256": result.file_sha256,
            "rows": result.rows_read,
            "good": result.good,
            "bad": result.bad_rows,
            "written": result.written,
            "skip_bad_rows": skip_bad_rows,
        },
    )
    await uow.commit()
    result.imported = True
    return result


async def _messages_of(validation: Pass):
    """The pass's messages. From a worker, each is received in a thread while the previous one is
    written, so the worker's next batch never waits for the database to take this one."""
    if not validation.in_worker:
        for message in validation.local():
            yield message
        return
    validation.start_worker()
    receiving = asyncio.ensure_future(asyncio.to_thread(validation.receive))
    try:
        while not isinstance(message := await receiving, Outcome):
            receiving = asyncio.ensure_future(asyncio.to_thread(validation.receive))
            yield message
        yield message
    finally:
        receiving.cancel()  # when the writing failed; closing the pass ends the thread's wait


def _writer(kind: str, uow: UnitOfWork, departments: dict[str, int], present: tuple[str, ...]):
    if kind == "targets":
        return TargetBulkWriter(uow.session, present)
    if kind == "inspectors":
        return InspectorWriter(uow.session, departments, present)
    if kind == "joint_items":
        return JointItemWriter(uow.session)
    return ItemWriter(uow.session, departments)


# ---- export ----------------------------------------------------------------------------------

_DONE = object()


async def export_directory(uow: UnitOfWork, actor: Actor, kind: str, path: str | Path, *, language: str = "en") -> int:
    """Stream a directory out to CSV or XLSX (by extension), in the import format, so it re-imports."""
    kind = _check_kind(kind)
    departments = await _department_codes(uow, actor)
    by_id = {i: c for c, i in departments.items()}
    handoff: queue.Queue = queue.Queue(maxsize=4)

    def records():
        while (batch := handoff.get()) is not _DONE:
            yield from batch

    writing = asyncio.ensure_future(asyncio.to_thread(write_table, Path(path), kind, records(), language=language))
    try:
        async for batch in export_rows(uow.session, kind, by_id):
            await asyncio.to_thread(handoff.put, batch)
    finally:
        await asyncio.to_thread(handoff.put, _DONE)
    return await writing
