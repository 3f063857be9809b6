"""Stream the rows of a CSV or spreadsheet file as `(line_number, cells)`.

`line_number` is what a person opening the file counts: in a CSV a row whose quoted cell holds line
breaks is numbered by the line it starts on; in a spreadsheet it is the sheet row. Every cell is a
`str` ("" for an empty cell); a spreadsheet cell that held a number is a `schemas.NumberText`, so
an identifier that went through a float is told from one typed as text. Blank rows are yielded too
(the validator skips them), so line numbers never drift.

CSV: comma-separated, `"`-quoted (strictly: an unclosed quote is an error naming its line), encoding
chosen by `encoding.detect_encoding_of_stream` and decoded strictly. About 700,000 rows/s; streams.
Spreadsheets (.xlsx, .xlsm, .xls, .ods): python-calamine (Rust), one sheet (`sheet`: a name or a
1-based number; the first by default), with its merged ranges (`Table.merged`). A formula gives its
cached value; whole-number floats come back without ".0" (440106.0 -> "440106"), dates as ISO text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import PurePath
from typing import BinaryIO

from jointcheck.core.directory_io.encoding import detect_encoding_of_stream, locate_error
from jointcheck.core.directory_io.errors import DirectoryFileError
from jointcheck.core.directory_io.schemas import NumberText

__all__ = ["FORMATS", "SHEET_FORMATS", "Table", "file_format", "open_table", "read_rows", "sheet_cell_text"]

SHEET_FORMATS = {".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls", ".ods": "ods"}
FORMATS = ("csv", "xlsx", "xls", "ods")
_BUFFER = 1 << 20


def file_format(name: str | os.PathLike) -> str:
    """'csv', 'xlsx', 'xls' or 'ods' from the file name's extension; DirectoryFileError otherwise."""
    suffix = PurePath(os.fspath(name)).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in SHEET_FORMATS:
        return SHEET_FORMATS[suffix]
    if suffix in (".et", ".numbers", ".xlsb"):
        raise DirectoryFileError(f"{suffix} files are not read; save the sheet as .xlsx, .xls, .ods or as CSV UTF-8 (.csv)")
    raise DirectoryFileError(f"unsupported file type {suffix or '(no extension)'!r}: upload a .csv, .xlsx, .xls or .ods file")


def read_rows(
    source: str | os.PathLike | BinaryIO, *, filename: str | None = None, sheet: str | None = None
) -> Iterator[tuple[int, list[str]]]:
    """All rows of the file, header included, as (line_number, cells).

    `source` is a path, or a seekable binary file object together with `filename` (only its
    extension is used). The file is closed when the iterator is exhausted or closed.
    """
    table = open_table(source, filename=filename, sheet=sheet)
    try:
        yield from table.rows()
    finally:
        table.close()


class Table:
    """An open CSV or spreadsheet file. Use as a context manager; `rows()` may be iterated once."""

    def __init__(self, fmt: str, stream: BinaryIO, owns_stream: bool, sheet: str | None = None):
        self.format = fmt
        self.encoding: str | None = None  # CSV only: 'utf-8-sig', 'utf-8' or 'gb18030'
        self.sheet_name: str | None = None  # spreadsheets: the sheet read
        self.sheet_names: list[str] = []
        # Spreadsheets: the merged ranges, as 1-based (first row, first column, last row, last column).
        self.merged: list[tuple[int, int, int, int]] = []
        self._sheet = None
        self._stream = stream
        self._owns = owns_stream
        self._workbook = None
        self._rows: Iterator | None = None
        self._start = stream.tell()
        if fmt == "csv":
            head = stream.read(4)
            stream.seek(-len(head), io.SEEK_CUR)
            if head.startswith(b"PK\x03\x04"):
                raise DirectoryFileError("this is an XLSX (zip) file with a .csv name; rename it to .xlsx")
            self.encoding = detect_encoding_of_stream(stream)
        else:
            self._open_sheet(sheet)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        if self._rows is not None:
            raise RuntimeError("the rows of a Table can be read only once")
        self._rows = self._csv_rows() if self.format == "csv" else self._sheet_rows()
        return self._rows

    def _open_sheet(self, sheet: str | None) -> None:
        import python_calamine  # imported lazily: reading CSV needs nothing of it

        try:
            self._workbook = python_calamine.CalamineWorkbook.from_filelike(self._stream)
        except Exception as exc:  # calamine raises its own errors for every kind of broken file
            raise DirectoryFileError(f"not a readable {self.format.upper()} file ({type(exc).__name__}: {exc})") from None
        self.sheet_names = list(self._workbook.sheet_names)
        if not self.sheet_names:
            raise DirectoryFileError("the workbook has no sheet")
        if sheet is None:
            index = 0
        elif sheet in self.sheet_names:
            index = self.sheet_names.index(sheet)
        elif sheet.isdigit() and 1 <= int(sheet) <= len(self.sheet_names):
            index = int(sheet) - 1
        else:
            listing = ", ".join(f"{i} '{name}'" for i, name in enumerate(self.sheet_names, 1))
            raise DirectoryFileError(f"no sheet {sheet!r} in the workbook; its sheets are {listing}")
        self.sheet_name = self.sheet_names[index]
        try:
            self._sheet = self._workbook.get_sheet_by_index(index)
        except Exception as exc:
            raise DirectoryFileError(f"sheet '{self.sheet_name}' cannot be read ({type(exc).__name__}: {exc})") from None
        self.merged = [(r0 + 1, c0 + 1, r1 + 1, c1 + 1) for (r0, c0), (r1, c1) in (self._sheet.merged_cell_ranges or ())]

    def _sheet_rows(self) -> Iterator[tuple[int, list[str]]]:
        sheet = self._sheet
        first_row, first_column = sheet.start or (0, 0)
        pad = [""] * first_column
        convert = sheet_cell_text
        for number, values in enumerate(sheet.iter_rows(), first_row + 1):
            yield number, pad + [value if value.__class__ is str else convert(value) for value in values]

    def _csv_rows(self) -> Iterator[tuple[int, list[str]]]:
        text = io.TextIOWrapper(self._stream, encoding=self.encoding, newline="", errors="strict")
        text._CHUNK_SIZE = _BUFFER  # type: ignore[attr-defined]  # fewer, larger decode calls
        # strict: an unclosed quote is an error, not a cell swallowing the rest of the file.
        reader = csv.reader(text, strict=True)
        end = 0  # physical line on which the previous record ended
        try:
            for row in reader:
                yield end + 1, row
                end = reader.line_num
        except csv.Error as exc:
            raise DirectoryFileError(
                f'line {end + 1}: the CSV cannot be parsed ({exc}); is a quote (") left open or followed by text?'
            ) from None
        except UnicodeDecodeError:  # a bad byte past the sample the encoding was judged on
            text.detach()
            text = None
            raise locate_error(self._stream, self._start, self.encoding) from None
        finally:
            if text is not None:
                text.detach()  # leave the binary stream to its owner

    def close(self) -> None:
        if self._rows is not None:
            self._rows.close()  # runs the generator's clean-up while the stream is still open
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None
            self._sheet = None
        if self._owns and not self._stream.closed:
            self._stream.close()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_table(source: str | os.PathLike | BinaryIO, *, filename: str | None = None, sheet: str | None = None) -> Table:
    """Open a CSV or spreadsheet file (format from the extension of `filename` or of the path)."""
    if isinstance(source, (str, os.PathLike)):
        fmt = file_format(filename or source)
        try:
            stream = open(source, "rb")
        except OSError as exc:
            raise DirectoryFileError(f"cannot open {os.fspath(source)}: {exc.strerror}") from None
        owns = True
    else:
        if filename is None:
            raise ValueError("a file object needs filename= to tell its format")
        fmt = file_format(filename)
        stream, owns = source, False
    try:
        return Table(fmt, stream, owns, sheet)
    except BaseException:
        if owns:
            stream.close()
        raise


def sheet_cell_text(value: object) -> str:
    """The text of one spreadsheet cell value as a person would type it back; a number's is a
    NumberText."""
    if value is None:
        return ""
    if value.__class__ is str:
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return NumberText(value)
    if isinstance(value, float):
        if value.is_integer():
            # As Excel shows it: 15 significant digits (9.14690062012665E+17 -> 914690062012665000).
            return NumberText(int(value) if abs(value) < 1e15 else int(Decimal(format(value, ".15g"))))
        return NumberText(repr(value))
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)
