"""One validating pass over an import file, delivered as batches, here or in a worker process.

Writing a batch to SQLite and validating the next cannot overlap inside one process: sqlite3 takes
the GIL back for every row it binds. A worker process validates while the importing process
writes, which is what keeps a big import near the speed of the database's own loader. Small files
stay in process, where starting a worker would cost more than it saves.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from jointcheck.core.directory_io.errors import BadRow, DirectoryFileError, RowError
from jointcheck.core.directory_io.validation import Validation, validate_file

WORKER_THRESHOLD_BYTES = 8 << 20


@dataclass
class Start:
    header: list[str]
    present: tuple[str, ...]


@dataclass
class Rows:
    """Good records in the order of their unique key (the first field): the database then writes
    its unique index page by page instead of all over the b-tree, about a third faster per million
    rows, and in a worker the sort costs the importing process nothing."""

    records: list[tuple]
    rows_read: int
    error_count: int


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

    @classmethod
    def of(cls, v: Validation) -> Outcome:
        return cls(v.rows_read, v.rows_ok, v.error_count, v.bad_row_count, v.truncated, list(v.errors), list(v.bad_rows))


def _messages(kind: str, path: str, known: Iterable[str], max_errors: int | None, batch: int, stop_at_error: bool) -> Iterator:
    """Start, then Rows batches, then the Outcome. With stop_at_error, no rows after the first error."""
    validation = validate_file(kind, path, known, max_errors=max_errors)
    yield Start(validation.header, validation.present)
    with validation:
        records: list[tuple] = []
        for record in validation.tuples():
            if stop_at_error and validation.error_count:
                records = []
                continue
            records.append(record)
            if len(records) >= batch:
                records.sort()
                yield Rows(records, validation.rows_read, validation.error_count)
                records = []
        if records and not (stop_at_error and validation.error_count):
            records.sort()
            yield Rows(records, validation.rows_read, validation.error_count)
    yield Outcome.of(validation)


def _worker(conn, *args) -> None:
    try:
        for message in _messages(*args):
            conn.send(message)
    except DirectoryFileError as exc:
        conn.send(DirectoryFileError(str(exc)))
    except Exception as exc:  # reported in the parent as one line, like any failure there
        conn.send(DirectoryFileError(f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


class Pass:
    """Iterate for Start, Rows… and Outcome; `in_worker` decides where the validation runs."""

    def __init__(self, kind: str, path: str, known: Iterable[str], *, max_errors: int | None, batch: int, stop_at_error: bool, in_worker: bool):
        self._args = (kind, str(path), sorted(known), max_errors, batch, stop_at_error)
        self.in_worker = in_worker
        self._process = None
        self._conn = None

    def local(self) -> Iterator:
        return _messages(*self._args)

    def start_worker(self) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a process that runs threads
        self._conn, child = context.Pipe(duplex=False)
        self._process = context.Process(target=_worker, args=(child, *self._args), daemon=True, name="jointcheck-validate")
        self._process.start()
        child.close()

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
            if self._process.is_alive():
                self._process.kill()
            self._process.join()
            self._conn.close()
            self._process = None
