"""Stream the rows of a CSV or XLSX file as `(line_number, cells)`.

`line_number` is what a person opening the file counts: the header is line 1; in a CSV a row whose
quoted cell holds line breaks is numbered by the line it starts on; in an XLSX it is the sheet row.
Every cell is a `str` ("" for an empty cell). Blank rows are yielded too (the validator skips them),
so line numbers never drift. Nothing holds more than one row (plus the csv/openpyxl buffers) in
memory: a million-row file streams.

CSV: comma-separated, `"`-quoted (strictly: an unclosed quote is an error naming its line), encoding
chosen by `encoding.detect_encoding_of_stream` and decoded strictly. About 700,000 rows/s.
XLSX: the first worksheet, opened with openpyxl `read_only=True, data_only=True` (a formula gives its
cached value); whole-number floats come back without ".0" (440106.0 -> "440106"), dates as ISO
text. openpyxl is slow: about 5,000 rows/s of ten text cells for files written by openpyxl itself
(inline strings), which is what `writers.write_xlsx` produces.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import PurePath
from typing import BinaryIO

from jointcheck.core.directory_io.encoding import detect_encoding_of_stream, locate_error
from jointcheck.core.directory_io.errors import DirectoryFileError

__all__ = ["FORMATS", "Table", "file_format", "open_table", "read_rows", "xlsx_cell_text"]

FORMATS = ("csv", "xlsx")
_BUFFER = 1 << 20


def file_format(name: str | os.PathLike) -> str:
    """'csv' or 'xlsx' from the file name's extension; DirectoryFileError otherwise."""
    suffix = PurePath(os.fspath(name)).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".xlsx":
        return "xlsx"
    if suffix in (".xls", ".et", ".ods", ".numbers", ".xlsm"):
        raise DirectoryFileError(f"{suffix} files are not read; save the sheet as .xlsx or as CSV UTF-8 (.csv)")
    raise DirectoryFileError(f"unsupported file type {suffix or '(no extension)'!r}: upload a .csv or .xlsx file")


def read_rows(source: str | os.PathLike | BinaryIO, *, filename: str | None = None) -> Iterator[tuple[int, list[str]]]:
    """All rows of the file, header included, as (line_number, cells).

    `source` is a path, or a seekable binary file object together with `filename` (only its
    extension is used). The file is closed when the iterator is exhausted or closed.
    """
    table = open_table(source, filename=filename)
    try:
        yield from table.rows()
    finally:
        table.close()


class Table:
    """An open CSV or XLSX file. Use as a context manager; `rows()` may be iterated once."""

    def __init__(self, fmt: str, stream: BinaryIO, owns_stream: bool):
        self.format = fmt
        self.encoding: str | None = None  # CSV only: 'utf-8-sig', 'utf-8' or 'gb18030'
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

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        if self._rows is not None:
            raise RuntimeError("the rows of a Table can be read only once")
        self._rows = self._csv_rows() if self.format == "csv" else self._xlsx_rows()
        return self._rows

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

    def _xlsx_rows(self) -> Iterator[tuple[int, list[str]]]:
        import openpyxl  # imported lazily: reading CSV needs nothing of it

        try:
            self._workbook = openpyxl.load_workbook(self._stream, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise DirectoryFileError(f"not a readable XLSX file ({type(exc).__name__}: {exc})") from None
        worksheets = self._workbook.worksheets
        if not worksheets:
            return
        sheet = worksheets[0]
        # The stored dimension may be missing or wrong (files written by other programs); without
        # it openpyxl reads the rows that are really there.
        sheet.reset_dimensions()
        convert = xlsx_cell_text
        number = 0
        for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
            yield number, [value if value.__class__ is str else convert(value) for value in values]

    def close(self) -> None:
        if self._rows is not None:
            self._rows.close()  # runs the generator's clean-up while the stream is still open
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None
        if self._owns and not self._stream.closed:
            self._stream.close()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_table(source: str | os.PathLike | BinaryIO, *, filename: str | None = None) -> Table:
    """Open a CSV or XLSX file (format from the extension of `filename` or of the path)."""
    if isinstance(source, (str, os.PathLike)):
        fmt = file_format(filename or source)
        try:
            stream = open(source, "rb")
        except OSError as exc:
            raise DirectoryFileError(f"cannot open {os.fspath(source)}: {exc.strerror}") from None
        owns = True
    else:
        if filename is None:
            raise ValueError("a file object needs filename= to tell CSV from XLSX")
        fmt = file_format(filename)
        stream, owns = source, False
    try:
        return Table(fmt, stream, owns)
    except BaseException:
        if owns:
            stream.close()
        raise


def xlsx_cell_text(value: object) -> str:
    """The text of one XLSX cell value as a person would type it back."""
    if value is None:
        return ""
    if value.__class__ is str:
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)
