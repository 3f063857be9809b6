"""A batch of target records packed for the bulk writer: UTF-8 lines of tab-separated fields.

Validated target values never hold a tab or a line break (every column is a code, an enumeration
or text refused for any control character), so packing needs no quoting: a join per row here, and
on the other side one C split for SQLite, or the bytes with their backslashes doubled for
PostgreSQL's COPY text format. A batch crosses from the validating process to the writing one in
this form, which costs about half of pickling its tuples and unpickling them again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["pack", "unpack_values"]


def pack(records: Iterable[Sequence[str]], width: int, *, in_key_order: bool = True) -> bytes:
    """The records, each `width` strings, one a line; with `in_key_order` sorted by their first
    field (the unique key). ValueError if a value holds a tab or a line break, which would shift
    every later field."""
    lines = ["\t".join(record) for record in records]
    if in_key_order:
        lines.sort()
    text = "\n".join(lines)
    if text.count("\t") != (width - 1) * len(lines) or text.count("\n") != max(len(lines) - 1, 0):
        raise ValueError("a value holds a tab or a line break and cannot be packed")
    return text.encode("utf-8")


def unpack_values(data: bytes) -> list[str]:
    """Every field of every record, in one flat list (records follow one another)."""
    return data.replace(b"\n", b"\t").decode("utf-8").split("\t") if data else []
