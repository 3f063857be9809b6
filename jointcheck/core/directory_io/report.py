"""The error report of an import: text lines for a person, and a CSV of the bad rows.

    line 12, column 统一社会信用代码 (code), value '91350100M000100Y44': check digit should be 3

The bad-rows CSV (for --skip-bad-rows) holds the rejected rows as they were in the file, under the
file's own header, followed by two columns: 行号 (line) and 错误原因 (errors). It is UTF-8 with a
BOM so Excel opens it with the Chinese intact; the next import ignores those two columns, so the
corrected file imports as it is.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from typing import TextIO

from jointcheck.core.directory_io.errors import BadRow, RowError
from jointcheck.core.directory_io.messages import translate
from jointcheck.core.directory_io.schemas import get_schema

__all__ = [
    "BAD_ROWS_EXTRA_COLUMNS",
    "bad_rows_csv_bytes",
    "format_row_error",
    "render_errors",
    "translate",
    "translate_reason",
    "write_bad_rows_csv",
    "write_report",
]

VALUE_MAX = 40
BAD_ROWS_EXTRA_COLUMNS = ("行号 (line)", "错误原因 (errors)")


def _shown(value: str) -> str:
    value = value.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    if len(value) > VALUE_MAX:
        value = value[: VALUE_MAX - 1] + "…"
    return value


def translate_reason(error: RowError, language: str = "en") -> str:
    if language == "en" or not error.template:
        return error.reason
    return translate(error.template, error.params, language)


def format_row_error(error: RowError, kind: str | None = None, language: str = "en") -> str:
    """One error as a line of text; with `kind` the column is named in Chinese and English."""
    reason = translate_reason(error, language)
    if not error.column:
        if error.value:
            return translate(
                "line {line}, value '{value}': {reason}", {"line": error.line, "value": _shown(error.value), "reason": reason}, language
            )
        return translate("line {line}: {reason}", {"line": error.line, "reason": reason}, language)
    label = get_schema(kind).label(error.column) if kind else error.column
    return translate(
        "line {line}, column {column}, value '{value}': {reason}",
        {"line": error.line, "column": label, "value": _shown(error.value), "reason": reason},
        language,
    )


def render_errors(
    errors: Iterable[RowError], kind: str | None = None, *, limit: int | None = None, total: int | None = None, language: str = "en"
) -> list[str]:
    """The errors as text lines, at most `limit` of them, then '… and N more errors' when `total`
    (for instance Validation.error_count) says there are more than shown."""
    lines: list[str] = []
    shown = 0
    for error in errors:
        if limit is not None and shown >= limit:
            break
        lines.append(format_row_error(error, kind, language))
        shown += 1
    if total is not None and total > shown:
        lines.append(translate("… and {count} more errors", {"count": total - shown}, language))
    return lines


def write_report(path: str | os.PathLike, errors: Iterable[RowError], kind: str | None = None, *, language: str = "en") -> int:
    """Every problem of an import, one a line (UTF-8 with BOM, CSV: line, column, value, reason)."""
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["行号 (line)", "列 (column)", "值 (value)", "错误原因 (reason)"])
        for error in errors:
            label = (get_schema(kind).label(error.column) if kind else error.column) if error.column else ""
            writer.writerow([error.line, label, error.value, translate_reason(error, language)])
            count += 1
    return count


def _reasons(row: BadRow, kind: str | None, language: str = "en") -> str:
    parts = []
    for error in row.errors:
        label = (get_schema(kind).label(error.column) if kind else error.column) if error.column else "row"
        parts.append(f"{label}: {translate_reason(error, language)}")
    return "; ".join(parts)


def write_bad_rows_csv(
    target: str | os.PathLike | TextIO, header: Sequence[str], bad_rows: Iterable[BadRow], *, kind: str | None = None, language: str = "en"
) -> int:
    """Write the bad rows with their line and reasons; returns the number of rows written.

    `target` is a path (written as UTF-8 with BOM) or a text stream (the caller chose its encoding;
    open it with encoding='utf-8-sig', newline='')."""
    if isinstance(target, (str, os.PathLike)):
        with open(target, "w", encoding="utf-8-sig", newline="") as stream:
            return _write_bad_rows(stream, header, bad_rows, kind, language)
    return _write_bad_rows(target, header, bad_rows, kind, language)


def _write_bad_rows(stream: TextIO, header: Sequence[str], bad_rows: Iterable[BadRow], kind: str | None, language: str = "en") -> int:
    writer = csv.writer(stream)
    header = [cell.replace("\ufeff", "") for cell in header]
    writer.writerow([*header, *BAD_ROWS_EXTRA_COLUMNS])
    width = len(header)
    count = 0
    for row in bad_rows:
        cells = list(row.cells[:width]) + [""] * (width - len(row.cells))
        writer.writerow([*cells, str(row.line), _reasons(row, kind, language)])
        count += 1
    return count


def bad_rows_csv_bytes(header: Sequence[str], bad_rows: Iterable[BadRow], *, kind: str | None = None) -> bytes:
    """The same file in memory (for sending as a chat document)."""
    buffer = io.StringIO()
    _write_bad_rows(buffer, header, bad_rows, kind)
    return buffer.getvalue().encode("utf-8-sig")
