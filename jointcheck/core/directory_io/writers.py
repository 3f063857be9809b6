"""Export records as CSV or XLSX with exactly the import columns, so an export imports unchanged.

Records are mappings with the schema's keys (as validation produces, or rows from the database
turned into dicts); a missing key or None is written as an empty cell, an int as its digits.

CSV: UTF-8 with BOM (Excel opens it with the Chinese intact), CRLF line ends, quoted as needed.
XLSX: openpyxl write-only mode (streams), one sheet named after the kind, every cell a text cell
(credit codes and region codes must never turn into numbers; a value beginning with '=' stays text,
never a formula). Cell values are written as they are: no spreadsheet formula escaping, because the
round trip must be exact and every import re-validates the values anyway.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePath
from typing import BinaryIO, TextIO

from jointcheck.core.directory_io.readers import file_format
from jointcheck.core.directory_io.schemas import get_schema

__all__ = ["record_cells", "write_csv", "write_plain_table", "write_table", "write_xlsx"]


def record_cells(kind: str, record: Mapping) -> list[str]:
    """The record's cells in schema order."""
    return [_text(record.get(key)) for key in get_schema(kind).fields]


def _text(value: object) -> str:
    if value is None:
        return ""
    if value.__class__ is str:
        return value
    return str(value)


def write_csv(target: str | os.PathLike | TextIO, kind: str, records: Iterable[Mapping], *, language: str = "en") -> int:
    """Write a header (English names, or Chinese with language='zh') and the records; returns the
    number of records. A text stream target must be opened with newline=''."""
    if isinstance(target, (str, os.PathLike)):
        with open(target, "w", encoding="utf-8-sig", newline="") as stream:
            return _write_csv(stream, kind, records, language)
    return _write_csv(target, kind, records, language)


def _write_csv(stream: TextIO, kind: str, records: Iterable[Mapping], language: str) -> int:
    schema = get_schema(kind)
    writer = csv.writer(stream)
    writer.writerow(schema.headers(language))
    fields = schema.fields
    count = 0
    rows = []
    for record in records:
        rows.append([_text(record.get(key)) for key in fields])
        if len(rows) >= 10_000:
            writer.writerows(rows)
            count += len(rows)
            rows.clear()
    writer.writerows(rows)
    return count + len(rows)


def write_xlsx(target: str | os.PathLike | BinaryIO, kind: str, records: Iterable[Mapping], *, language: str = "en") -> int:
    """As write_csv, as an .xlsx workbook (path or binary stream)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    schema = get_schema(kind)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(kind)
    fields = schema.fields

    def cell(value: object) -> WriteOnlyCell:
        text = _text(value)
        result = WriteOnlyCell(sheet, value=text)
        result.data_type = "s"  # text, even for '=...' (openpyxl would make that a formula)
        return result

    sheet.append([cell(name) for name in schema.headers(language)])
    count = 0
    for record in records:
        sheet.append([cell(record.get(key)) for key in fields])
        count += 1
    workbook.save(target)
    return count


def write_table(path: str | os.PathLike, kind: str, records: Iterable[Mapping], *, language: str = "en") -> int:
    """write_csv or write_xlsx, chosen by the extension of `path`."""
    fmt = file_format(PurePath(os.fspath(path)).name)
    if fmt == "csv":
        return write_csv(path, kind, records, language=language)
    return write_xlsx(path, kind, records, language=language)


def write_plain_table(path: str | os.PathLike, sheet: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """A report (not an import format): the header and the rows, to CSV (UTF-8 with BOM) or XLSX
    by the extension of `path`, every cell text as above. Returns the number of rows."""
    count = 0
    if file_format(PurePath(os.fspath(path)).name) == "csv":
        with open(path, "w", encoding="utf-8-sig", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(header)
            for row in rows:
                writer.writerow([_text(v) for v in row])
                count += 1
        return count
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    out = workbook.create_sheet(sheet)

    def cell(value: object) -> WriteOnlyCell:
        result = WriteOnlyCell(out, value=_text(value))
        result.data_type = "s"
        return result

    out.append([cell(name) for name in header])
    for row in rows:
        out.append([cell(v) for v in row])
        count += 1
    workbook.save(path)
    return count
