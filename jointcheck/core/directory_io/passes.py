"""One validating pass over an import file, delivered as batches, here or in a worker process.

Writing a batch to SQLite and validating the next cannot overlap inside one process: sqlite3 takes
the GIL back for every row it binds. A worker process validates while the importing process
writes, which is what keeps a big import near the speed of the database's own loader. Small files
stay in process, where starting a worker would cost more than it saves.

The worker is a bare interpreter running this module, not a multiprocessing child: spawning one
re-imports the parent's main script, which for the console script is the whole CLI (most of a
second, on a core the import needs).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing.connection import Connection
from pathlib import Path

from jointcheck.core.directory_io.errors import BadRow, DirectoryFileError, RowError
from jointcheck.core.directory_io.packed import pack
from jointcheck.core.directory_io.readers import file_format, open_table
from jointcheck.core.directory_io.schemas import ColumnMapping, get_schema
from jointcheck.core.directory_io.validation import Validation, validate_file

WORKER_THRESHOLD_BYTES = 8 << 20
# The directory holding the `jointcheck` package, so the worker imports the code the parent runs.
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[3])


@dataclass
class Start:
    header: list[str]
    present: tuple[str, ...]
    keys: list[str | None] = field(default_factory=list)  # the column key of each header cell
    ignored: list[str] = field(default_factory=list)  # header cells left out (personal, --ignore-unknown)


@dataclass
class Rows:
    """Good records. In the order of their unique key (the first field) SQLite fills its unique
    index page by page instead of all over the b-tree, and in a worker the sort costs the
    importing process nothing: targets come packed (`packed.pack`), in that order when the pass
    is asked for it; the other kinds, a few thousand rows, always as sorted tuples."""

    records: bytes | list[tuple]
    rows_read: int
    error_count: int


@dataclass
class Restart:
    """The columnar pass met a row it could not prove good after sending some: forget what it sent;
    the row-by-row pass follows, from its Start."""


@dataclass
class Outcome:
    """What the pass found, the same wherever it ran."""

    rows_read: int = 0
    rows_ok: int = 0
    error_count: int = 0
    bad_row_count: int = 0
    truncated: bool = False
    errors: list[RowError] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)
    layout: list[tuple[str, dict]] = field(default_factory=list)  # what the layout was understood as
    generated: list[tuple[str, str]] = field(default_factory=list)  # (code, name) of items given a code

    @classmethod
    def of(cls, v: Validation) -> Outcome:
        layout = list(v.layout.notes) if v.layout is not None else []
        return cls(
            v.rows_read, v.rows_ok, v.error_count, v.bad_row_count, v.truncated, list(v.errors), list(v.bad_rows), layout, list(v.generated)
        )


def _batch(kind: str, width: int, records: list[tuple], in_key_order: bool) -> bytes | list[tuple]:
    if kind == "targets":
        return pack(records, width, in_key_order=in_key_order)
    records.sort()
    return records


def _messages(
    kind: str,
    path: str,
    known: Iterable[str],
    max_errors: int | None,
    batch: int,
    stop_at_error: bool,
    in_key_order: bool,
    columnar: bool = True,
    options: dict | None = None,
) -> Iterator:
    """Start, then Rows batches, then the Outcome (a Restart and a new Start may come between).
    With stop_at_error, no rows after the first error. A CSV of targets goes through the columnar
    pass first, which does the whole file when nothing in it is wrong or unusual."""
    options = options or {}
    mapping = ColumnMapping.from_json(options.get("mapping"))
    plain = mapping.is_plain and not options.get("region_from_address") and not options.get("sheet")
    if kind == "targets" and columnar and plain:
        from jointcheck.core.directory_io.columnar import NotClean  # Arrow: loaded for a CSV of targets only

        sent = False
        try:
            for message in _columnar_messages(path, known, batch, in_key_order):
                sent = True
                yield message
            return
        except NotClean:
            if sent:
                yield Restart()
    yield from _row_messages(kind, path, known, max_errors, batch, stop_at_error, in_key_order, options)


def _columnar_messages(path: str, known: Iterable[str], batch: int, in_key_order: bool) -> Iterator:
    from jointcheck.core.directory_io.columnar import NotClean, clean_batches

    header, keys = _plain_header(path)
    batches = clean_batches(path, header, keys, known, batch, in_key_order)
    first = next(batches, None)  # a file wrong from its first batch on sends nothing to forget
    if first is None:
        raise NotClean("no data rows")  # the row-by-row pass says what an empty file means
    yield Start(header, get_schema("targets").present(keys), keys)
    rows = 0
    for data, count in itertools.chain([first], batches):
        rows += count
        yield Rows(data, rows, 0)
    yield Outcome(rows_read=rows, rows_ok=rows)


def _plain_header(path: str) -> tuple[list[str], list[str | None]]:
    """The header of a UTF-8 CSV whose first line names every column and holds no quote, with the
    field each cell names; NotClean for any other file (the row-by-row pass says what is wrong)."""
    from jointcheck.core.directory_io.columnar import NotClean

    try:
        if file_format(path) != "csv":
            raise NotClean("not a CSV file")
        with open(path, "rb") as fh:
            if b'"' in fh.readline():
                raise NotClean("a quote in the header")
        with open_table(path) as table:
            if table.encoding not in ("utf-8", "utf-8-sig"):
                raise NotClean("not UTF-8")
            line, header = next(table.rows(), (0, []))
        if line != 1 or not any(cell.strip() for cell in header):
            raise NotClean("the header is not on the first line")
        keys = get_schema("targets").match_header(header)
    except (DirectoryFileError, OSError) as exc:
        raise NotClean(str(exc)) from None
    return header, keys


def _row_messages(
    kind: str,
    path: str,
    known: Iterable[str],
    max_errors: int | None,
    batch: int,
    stop_at_error: bool,
    in_key_order: bool,
    options: dict | None = None,
) -> Iterator:
    """The row-by-row pass: Start, Rows batches, then the Outcome. With stop_at_error, no rows after the first error."""
    options = options or {}
    mapping = ColumnMapping.from_json(options.get("mapping"))
    validation = validate_file(
        kind,
        path,
        known,
        max_errors=max_errors,
        sheet=options.get("sheet"),
        mapping=mapping,
        region_from_address=bool(options.get("region_from_address")),
    )
    yield Start(validation.header, validation.present, list(validation.keys), list(validation.mapping.ignored))
    width = len(validation.schema.fields)
    with validation:
        good = validation.tuples()
        while records := list(islice(good, batch)):
            if stop_at_error and validation.error_count:
                deque(good, maxlen=0)  # validate the rest for the report, keeping none of it
                break
            yield Rows(_batch(kind, width, records, in_key_order), validation.rows_read, validation.error_count)
    yield Outcome.of(validation)


def _worker_main() -> None:
    """The worker: arguments as JSON in argv, messages out through the pipe whose fd is argv[1]."""
    conn = Connection(int(sys.argv[1]), readable=False)
    try:
        for message in _messages(*json.loads(sys.argv[2])):
            conn.send(message)
    except DirectoryFileError as exc:
        conn.send(DirectoryFileError(str(exc)))
    except BrokenPipeError:  # the importing process is gone or gave up
        pass
    except Exception as exc:  # reported in the parent as one line, like any failure there
        conn.send(DirectoryFileError(f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


class Pass:
    """Iterate for Start, Rows… and Outcome; `in_worker` decides where the validation runs."""

    def __init__(
        self,
        kind: str,
        path: str,
        known: Iterable[str],
        *,
        max_errors: int | None,
        batch: int,
        stop_at_error: bool,
        in_key_order: bool,
        in_worker: bool,
        options: dict | None = None,
    ):
        # `known`: department codes, or every spelling of a department (code, name, alias) -> its code.
        known = dict(sorted(known.items())) if isinstance(known, dict) else sorted(known)
        self._args = (kind, str(path), known, max_errors, batch, stop_at_error, in_key_order, True, options or {})
        self.in_worker = in_worker
        self._process = None
        self._conn = None

    def local(self) -> Iterator:
        return _messages(*self._args)

    def start_worker(self) -> None:
        read, write = os.pipe()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (_PACKAGE_ROOT, os.environ.get("PYTHONPATH"))))}
        # Arrow's jemalloc hands freed batches back sooner than its default allocator: about 30 MB
        # less at the peak of a million-row file, and the import's two processes share a budget.
        env.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-c", f"from {__name__} import _worker_main; _worker_main()", str(write), json.dumps(self._args)],
                # Its own session: Ctrl-C reaches the importing process alone, which ends the worker.
                pass_fds=(write,),
                env=env,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        except BaseException:
            os.close(read)
            raise
        finally:
            os.close(write)
        self._conn = Connection(read, writable=False)

    def receive(self):
        """The worker's next message (blocking; call it from a thread). Raises what the worker reported."""
        try:
            message = self._conn.recv()
        except EOFError:
            raise DirectoryFileError("the validating process ended without a result") from None
        if isinstance(message, Exception):
            raise message
        return message

    def close(self) -> None:
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()
            self._conn.close()
            self._process = None
