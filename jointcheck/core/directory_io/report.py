"""The error report of an import: text lines for a person, and a CSV of the bad rows.

    line 12, column 统一社会信用代码 (code), value '91350100M000100Y44': check digit should be 3

The bad-rows CSV (for --skip-bad-rows) holds the rejected rows as they were in the file, under the
file's own header, followed by two columns: 行号 (line) and 错误原因 (errors). It is UTF-8 with a
BOM so Excel opens it with the Chinese intact; delete the two last columns before importing the
corrected rows again.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from typing import TextIO

from jointcheck.core.directory_io.errors import BadRow, RowError
from jointcheck.core.directory_io.schemas import get_schema

__all__ = ["BAD_ROWS_EXTRA_COLUMNS", "bad_rows_csv_bytes", "format_row_error", "render_errors", "write_bad_rows_csv"]

VALUE_MAX = 40
BAD_ROWS_EXTRA_COLUMNS = ("行号 (line)", "错误原因 (errors)")


def _shown(value: str) -> str:
    value = value.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    if len(value) > VALUE_MAX:
        value = value[: VALUE_MAX - 1] + "…"
    return value


def format_row_error(error: RowError, kind: str | None = None) -> str:
    """One error as a line of text; with `kind` the column is named in Chinese and English."""
    if not error.column:
        return f"line {error.line}, value '{_shown(error.value)}': {error.reason}" if error.value else f"line {error.line}: {error.reason}"
    label = get_schema(kind).label(error.column) if kind else error.column
    return f"line {error.line}, column {label}, value '{_shown(error.value)}': {error.reason}"


def render_errors(errors: Iterable[RowError], kind: str | None = None, *, limit: int | None = None, total: int | None = None) -> list[str]:
    """The errors as text lines, at most `limit` of them, then '… and N more errors' when `total`
    (for instance Validation.error_count) says there are more than shown."""
    lines: list[str] = []
    shown = 0
    for error in errors:
        if limit is not None and shown >= limit:
            break
        lines.append(format_row_error(error, kind))
        shown += 1
    if total is not None and total > shown:
        lines.append(f"… and {total - shown} more errors")
    return lines


def _reasons(row: BadRow, kind: str | None) -> str:
    parts = []
    for error in row.errors:
        label = (get_schema(kind).label(error.column) if kind else error.column) if error.column else "row"
        parts.append(f"{label}: {error.reason}")
    return "; ".join(parts)


def write_bad_rows_csv(
    target: str | os.PathLike | TextIO, header: Sequence[str], bad_rows: Iterable[BadRow], *, kind: str | None = None
) -> int:
    """Write the bad rows with their line and reasons; returns the number of rows written.

    `target` is a path (written as UTF-8 with BOM) or a text stream (the caller chose its encoding;
    open it with encoding='utf-8-sig', newline='')."""
    if isinstance(target, (str, os.PathLike)):
        with open(target, "w", encoding="utf-8-sig", newline="") as stream:
            return _write_bad_rows(stream, header, bad_rows, kind)
    return _write_bad_rows(target, header, bad_rows, kind)


def _write_bad_rows(stream: TextIO, header: Sequence[str], bad_rows: Iterable[BadRow], kind: str | None) -> int:
    writer = csv.writer(stream)
    header = [cell.replace("\ufeff", "") for cell in header]
    writer.writerow([*header, *BAD_ROWS_EXTRA_COLUMNS])
    width = len(header)
    count = 0
    for row in bad_rows:
        cells = list(row.cells[:width]) + [""] * (width - len(row.cells))
        writer.writerow([*cells, str(row.line), _reasons(row, kind)])
        count += 1
    return count


def bad_rows_csv_bytes(header: Sequence[str], bad_rows: Iterable[BadRow], *, kind: str | None = None) -> bytes:
    """The same file in memory (for sending as a chat document)."""
    buffer = io.StringIO()
    _write_bad_rows(buffer, header, bad_rows, kind)
    return buffer.getvalue().encode("utf-8-sig")
