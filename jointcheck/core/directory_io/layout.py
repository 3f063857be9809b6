"""Finding the table in a sheet as people keep it, and saying what was found.

Registers come with a title and note rows above the header, a two-row header (a merged parent such
as 抽查项目 over its children 抽查类别 and 抽查事项), merged cells standing for the same value down a
group of rows, and note rows under the table. This module reads the first rows, picks the header
(the row, or pair of rows, naming the most columns the kind knows), and then streams the data rows
with the merged ranges filled in and the trailing notes left out. `notes` says what it understood,
for the import to print: "header on rows 2–3; row 1 taken as a title; 380 merged ranges filled down".

Nothing is guessed silently: a note row is left out only when nothing but notes follows it, and every
row left out is named in `notes`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from jointcheck.core.directory_io.errors import DirectoryFileError
from jointcheck.core.directory_io.readers import Table
from jointcheck.core.directory_io.schemas import BAD_ROWS_COLUMNS, IGNORE, PERSONAL_COLUMNS, SEQUENCE_COLUMNS, ColumnMapping, Schema

__all__ = ["Layout", "find_layout"]

SCAN_ROWS = 30
_NOTE = re.compile(r"\s*(注|说明|备注|填表|制表|审核|附|数据来源|\*|※)")


@dataclass
class Layout:
    header: list[str]  # one name per column (a two-row header joined)
    header_lines: tuple[int, int]  # first and last line of the header
    rows: Iterator[tuple[int, list[str]]]
    notes: list[tuple[str, dict]] = field(default_factory=list)  # (sentence with {fields}, fields)
    filled: int = 0  # merged ranges filled in


def _blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def _name(cell: str) -> str:
    return " ".join((cell or "").replace("\ufeff", "").split())


def _score(schema: Schema, mapping: ColumnMapping, cells: list[str]) -> int:
    lookup = schema._lookup()
    known = 0
    for cell in cells:
        name = _name(cell)
        if not name:
            continue
        if name in mapping.names or name in PERSONAL_COLUMNS or name in BAD_ROWS_COLUMNS or name in SEQUENCE_COLUMNS:
            known += mapping.names.get(name) != IGNORE
            continue
        if lookup.get(name) or lookup.get(name.lower()):
            known += 1
    return known


def _joined(parent: list[str], child: list[str], spans: dict[int, int]) -> list[str]:
    """The header of a two-row header: the child's name where it has one, else the parent's (a
    parent merged across columns gives its name to each; a cell merged down the two rows is in the
    parent row only)."""
    width = max(len(parent), len(child))
    parent = parent + [""] * (width - len(parent))
    child = child + [""] * (width - len(child))
    out = []
    for i in range(width):
        name = child[i].strip() or parent[i].strip() or parent[spans.get(i, i)].strip()
        out.append(name)
    return out


def find_layout(table: Table, schema: Schema, mapping: ColumnMapping) -> Layout:
    """Read the head of the table, decide where the header is, and return the data rows to come."""
    rows = table.rows()
    head = list(islice(rows, SCAN_ROWS))
    merged = table.merged
    # Columns covered by a horizontal merge, pointing at its first column, per row.
    spans: dict[int, dict[int, int]] = {}
    for r0, c0, r1, c1 in merged:
        for line in range(r0, r1 + 1):
            for col in range(c0, c1 + 1):
                spans.setdefault(line, {})[col - 1] = c0 - 1
    best = None  # (score, position, two_rows)
    for i, (line, cells) in enumerate(head):
        if _blank(cells):
            continue
        score = _score(schema, mapping, cells)
        if best is None or score > best[0]:
            best = (score, i, False)
        if i + 1 < len(head) and not _blank(head[i + 1][1]):
            joined = _joined(cells, head[i + 1][1], spans.get(line, {}))
            two = _score(schema, mapping, joined)
            # Two rows only when together they name more than either does alone.
            if two > max(score, _score(schema, mapping, head[i + 1][1])) and two > best[0]:
                best = (two, i, True)
    if best is None:
        raise DirectoryFileError("the file is empty: a row must name the columns")
    if best[0] == 0:  # nothing known anywhere: the first row is the header, and the header error says why
        best = (0, next(i for i, (_, cells) in enumerate(head) if not _blank(cells)), False)
    _, at, two_rows = best
    first_line = head[at][0]
    if two_rows:
        header = _joined(head[at][1], head[at + 1][1], spans.get(first_line, {}))
        last_line = head[at + 1][0]
    else:
        header = [_name(cell) for cell in head[at][1]]
        last_line = first_line
    layout = Layout(header, (first_line, last_line), iter(()))
    if table.sheet_name is not None and len(table.sheet_names) > 1:
        layout.notes.append(
            (
                "sheet '{sheet}' read (the workbook has {count}: use --sheet for another)",
                {"sheet": table.sheet_name, "count": len(table.sheet_names)},
            )
        )
    if two_rows:
        layout.notes.append(("header on rows {first}–{last}", {"first": first_line, "last": last_line}))
    elif first_line != 1:
        layout.notes.append(("header on row {first}", {"first": first_line}))
    above = [line for line, cells in head[:at] if not _blank(cells)]
    if above:
        layout.notes.append(("row(s) {rows} taken as a title or notes", {"rows": _lines(above)}))
    body = head[at + (2 if two_rows else 1) :]
    data_ranges = [m for m in merged if m[0] > last_line]
    width = len(header)
    layout.rows = _data_rows(iter(body), rows, data_ranges, width, layout)
    return layout


def _lines(lines: list[int]) -> str:
    return ", ".join(str(line) for line in lines)


def _data_rows(body, rest, ranges, width: int, layout: Layout) -> Iterator[tuple[int, list[str]]]:
    """The data rows with merged ranges filled in; trailing note rows held back and named."""
    # A merge across most of the table is a note row, not a value to fill.
    wide = {r0 for r0, c0, r1, c1 in ranges if r0 == r1 and c1 - c0 + 1 >= max(2, width // 2)}
    fills = sorted((r for r in ranges if not (r[0] == r[2] and r[0] in wide)), key=lambda r: r[0])
    pending = 0
    active: list[tuple[int, int, int, str]] = []  # (last line, first column, last column, value)
    held: list[tuple[int, list[str]]] = []
    for source in (body, rest):
        for line, cells in source:
            while pending < len(fills) and fills[pending][0] <= line:
                r0, c0, r1, c1 = fills[pending]
                pending += 1
                if r0 == line:
                    value = cells[c0 - 1] if c0 - 1 < len(cells) else ""
                    active.append((r1, c0 - 1, c1 - 1, value))
                    layout.filled += 1
            if active:
                if len(cells) < width:
                    cells = cells + [""] * (width - len(cells))
                keep = []
                for r1, c0, c1, value in active:
                    if line <= r1:
                        for col in range(c0, min(c1 + 1, len(cells))):
                            if not cells[col]:
                                cells[col] = value
                        keep.append((r1, c0, c1, value))
                active = keep
            filled = [cell for cell in cells if cell.strip()]
            if not filled:
                held.append((line, cells))
                continue
            if line in wide or (len(filled) == 1 and _NOTE.match(filled[0])):
                held.append((line, cells))
                continue
            yield from held
            held = []
            yield line, cells
    notes = [line for line, cells in held if not _blank(cells)]
    if layout.filled:
        layout.notes.append(("{count} merged ranges filled down", {"count": layout.filled}))
    if notes:
        layout.notes.append(("row(s) {rows} under the table taken as notes", {"rows": _lines(notes)}))
