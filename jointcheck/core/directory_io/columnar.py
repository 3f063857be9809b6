"""Validating a clean CSV of targets a column at a time, with Apache Arrow.

A province's directory arrives as one big UTF-8 CSV with, most of the time, nothing wrong in it.
The row-by-row pass (`validation`) spends about four microseconds of Python on every row; here each
rule is one Arrow kernel over a batch of twenty thousand rows, and the file is split into rows by
Arrow's C++ reader.

This pass only ever *accepts*. A batch goes out when every cell in it is one the row-by-row
checkers would take, normalised to the very same text; at the first cell it cannot prove good
(a bad value, or only an unusual one: a quote, an extra cell, a character outside the plain set
below) it raises `NotClean`. The caller then runs the row-by-row pass from the start, which is the
one place that reports errors, so no report ever depends on which pass ran.

Why the rules below are safe:
* Cells are split by commas and line ends only (no quoting), and a cell holding a quote is not
  clean, so a file this pass accepts is split exactly as Python's `csv` module splits it.
* Free text passes when made of `PLAIN` characters, which Python itself judged printable when this
  module was loaded and of which only the space is whitespace: such text passes `text_checker`,
  and stripping it is trimming spaces.
* Low-cardinality columns go through their own checkers once per distinct text in a batch.
* A credit code passes when it is ASCII and, trimmed and upper-cased, matches the standard's
  layout with the right check digit (`credit_code`'s rule, here over whole columns).
* A repeated code is looked for once the file is read, among the codes kept as Arrow arrays; the
  batches sent by then are forgotten (`passes.Restart`) and the row-by-row pass reports it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from jointcheck.core.directory_io.credit_code import ALPHABET, AUTHORITIES, ENTITY_TYPES, WEIGHTS
from jointcheck.core.directory_io.schemas import ADDRESS_MAX, CODE_MAX, REGISTERED_KINDS, TARGET_NAME_MAX, Invalid, get_schema

__all__ = ["NotClean", "PLAIN", "clean_batches"]

# Blocks people's names and addresses are written in: ASCII, Latin letters, general punctuation,
# CJK punctuation and kana, the CJK ideographs, full-width forms.
_BLOCKS = (
    (0x20, 0x7E),
    (0xA1, 0x24F),
    (0x2010, 0x205E),
    (0x3001, 0x30FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFF01, 0xFFEF),
)
_NEVER = frozenset('",')  # a quote may start a quoted cell; a comma only shows up inside one


def _plain_ranges() -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for low, high in _BLOCKS:
        for point in range(low, high + 1):
            ch = chr(point)
            if ch in _NEVER or not ch.isprintable() or (ch.isspace() and ch != " "):
                continue
            if ranges and ranges[-1][1] == point - 1:
                ranges[-1] = (ranges[-1][0], point)
            else:
                ranges.append((point, point))
    return ranges


_RANGES = _plain_ranges()
PLAIN = frozenset(chr(p) for low, high in _RANGES for p in range(low, high + 1))
_PLAIN_TEXT = "^[" + "".join(f"\\x{{{low:X}}}-\\x{{{high:X}}}" for low, high in _RANGES) + "]*$"
_CREDIT_CODE = f"^[{AUTHORITIES}][{ENTITY_TYPES}][0-9]{{6}}[{ALPHABET}]{{10}}$"
_ALPHABET_VALUE = pa.array([max(ALPHABET.find(chr(b)), 0) for b in range(256)], pa.int64())
_0, _31 = pa.scalar(0, pa.int64()), pa.scalar(31, pa.int64())
_ZERO_ARRAY = pa.array([0], pa.int64())
_CREDIT_KINDS = pa.array(sorted(REGISTERED_KINDS))
_LOW_CARDINALITY = ("kind", "region", "industry", "risk", "departments", "tags", "status")
_MEMO_LIMIT = 50_000
BLOCK_BYTES = 2 << 20
_LAYOUT_ROWS = 1 << 15


@functools.lru_cache(maxsize=1)
def _whole_layout(rows: int) -> tuple[pa.Array, pa.Array]:
    return pa.array((*WEIGHTS, 0) * rows, pa.int64()), pa.array(range(17, 18 * rows, 18), pa.int64())


def _layout(rows: int) -> tuple[pa.Array, pa.Array]:
    """For `rows` codes one after the other: each character's weight (the check digit's is 0),
    and where each code's check digit is. Built once for the largest batch, then sliced."""
    weights, check_digits = _whole_layout(max(rows, _LAYOUT_ROWS))
    return weights.slice(0, 18 * rows), check_digits.slice(0, rows)


class NotClean(Exception):
    """The file needs the row-by-row pass: it may be wrong, or only unusual."""


def _all(mask: pa.Array) -> bool:
    return len(mask) == 0 or pc.all(mask).as_py() is True


def _plain_text(column: pa.Array, max_len: int, required: bool) -> pa.Array:
    if not _all(pc.match_substring_regex(column, _PLAIN_TEXT)):
        raise NotClean("free text outside the plain characters")
    value = pc.utf8_trim(column, characters=" ")
    lengths = pc.min_max(pc.utf8_length(value))
    if lengths["max"].as_py() > max_len or (required and lengths["min"].as_py() == 0):
        raise NotClean("text too long, or empty where required")
    return value


def _credit_codes(codes: pa.Array) -> pa.Array:
    if not _all(pc.string_is_ascii(codes)):
        raise NotClean("a credit code that is not ASCII")
    value = pc.ascii_upper(pc.utf8_trim(codes, characters=" "))
    if not _all(pc.match_substring_regex(value, _CREDIT_CODE)):
        raise NotClean("a credit code out of layout")
    rows = len(value)
    # Every code is 18 bytes: the characters lie one after the other in the data buffer.
    first = memoryview(value.buffers()[1]).cast("i")[value.offset]
    chars = pa.Array.from_buffers(pa.uint8(), 18 * rows, [None, value.buffers()[2]], offset=first)
    values = pc.take(_ALPHABET_VALUE, chars)
    # A row's weighted sum is the rise of the running total over its 18 characters (the weight
    # of the check digit itself is 0).
    weights, check_digits = _layout(rows)
    ends = pc.take(pc.cumulative_sum(pc.multiply(values, weights)), check_digits)
    sums = pc.subtract(ends, pa.concat_arrays([_ZERO_ARRAY, ends.slice(0, rows - 1)]))
    remainder = pc.subtract(sums, pc.multiply(pc.divide(sums, _31), _31))
    expected = pc.if_else(pc.equal(remainder, _0), _0, pc.subtract(_31, remainder))
    given = pc.take(values, check_digits)
    if not _all(pc.equal(expected, given)):
        raise NotClean("a credit code with a wrong check digit")
    return value


class _Screen:
    """The per-column rules over one batch; the memos and the codes last the whole file."""

    def __init__(self, known_departments: Iterable[str]):
        self._checkers = get_schema("targets").checkers(known_departments)
        self._memos: dict[str, dict[str, str]] = {key: {} for key in _LOW_CARDINALITY}
        self._codes: list[pa.Array] = []  # about 22 bytes a row, a tenth of a set of str

    def check_unique(self) -> None:
        """NotClean if a code appears twice in the file (the row-by-row pass names the lines)."""
        codes = pa.chunked_array(self._codes, pa.string())
        if len(pc.unique(codes)) != len(codes):
            raise NotClean("a code appears twice")

    def _distinct(self, key: str, column: pa.Array) -> pa.Array:
        encoded = pc.dictionary_encode(column)
        memo, check = self._memos[key], self._checkers[key]
        values = []
        for raw in encoded.dictionary.to_pylist():
            value = memo.get(raw)
            if value is None:
                if '"' in raw:
                    raise NotClean(f"a quote in {key}")
                value = check(raw)
                if value.__class__ is Invalid:
                    raise NotClean(f"{key}: {value.reason}")
                if "\t" in value or "\n" in value:  # would shift the packed fields
                    raise NotClean(f"a tab or a line break in {key}")
                if len(memo) < _MEMO_LIMIT:
                    memo[raw] = value
            values.append(value)
        return pc.take(pa.array(values, pa.string()), encoded.indices)

    def records(self, cells: dict[str, pa.Array]) -> list[pa.Array]:
        """The batch's normalised columns in `schema.fields` order, or NotClean."""
        out = {key: self._distinct(key, cells[key]) for key in _LOW_CARDINALITY}
        out["code"] = _mixed_codes(cells["code"], out["kind"])
        out["name"] = _plain_text(cells["name"], TARGET_NAME_MAX, True)
        out["address"] = _plain_text(cells["address"], ADDRESS_MAX, False)
        self._codes.append(out["code"])
        return [out[key] for key in get_schema("targets").fields]


def _mixed_codes(codes: pa.Array, kinds: pa.Array) -> pa.Array:
    credit = pc.is_in(kinds, value_set=_CREDIT_KINDS)
    if _all(credit):
        return _credit_codes(codes)
    if not pc.any(credit).as_py():
        return _plain_text(codes, CODE_MAX, True)
    _credit_codes(pc.filter(codes, credit))
    _plain_text(pc.filter(codes, pc.invert(credit)), CODE_MAX, True)
    # Both kinds proved good: the credit codes' value is the trimmed upper case, the others' the trimmed text.
    trimmed = pc.utf8_trim(codes, characters=" ")
    return pc.if_else(credit, pc.ascii_upper(trimmed), trimmed)


def pack_columns(columns: list[pa.Array], in_key_order: bool) -> bytes:
    """What `packed.pack` makes of the same records: tab-separated fields, a row a line, with
    `in_key_order` sorted by the first field (the code: unique, so it alone decides the order)."""
    lines = pc.binary_join_element_wise(*columns, "\t")
    if in_key_order:
        lines = lines.take(pc.sort_indices(columns[0]))
    text = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, len(lines)], pa.int32()), lines), "\n")
    return text[0].as_buffer().to_pybytes()


def clean_batches(
    path: str, header: list[str], keys: list[str | None], known_departments: Iterable[str], batch_rows: int, in_key_order: bool
) -> Iterator[tuple[bytes, int]]:
    """(packed records, rows) for each batch of the file's data rows, or NotClean. `header` and
    `keys` are the first line's cells and the field each names (`Schema.match_header`)."""
    width = len(header)
    names = [f"c{i}" for i in range(width)]
    try:
        reader = pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, block_size=BLOCK_BYTES),
            parse_options=pa_csv.ParseOptions(quote_char=False, newlines_in_values=False, ignore_empty_lines=True),
            convert_options=pa_csv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=False, check_utf8=True),
        )
    except (pa.ArrowException, OSError) as exc:
        raise NotClean(str(exc)) from None
    screen = _Screen(known_departments)
    fields = get_schema("targets").fields
    position = {key: i for i, key in enumerate(keys) if key is not None}
    unnamed = [i for i, key in enumerate(keys) if key is None]
    with reader:
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                screen.check_unique()
                return
            except pa.ArrowException as exc:  # a row with too few or too many cells, a bad byte
                raise NotClean(str(exc)) from None
            for start in range(0, batch.num_rows, batch_rows):
                part = batch.slice(start, batch_rows)
                rows = part.num_rows
                for i in unnamed:
                    if pc.max(pc.utf8_length(part.column(i))).as_py():
                        raise NotClean("a value in a column without a header")
                empty = pa.array([""] * rows, pa.string()) if len(position) < len(fields) else None
                cells = {key: part.column(position[key]) if key in position else empty for key in fields}
                yield pack_columns(screen.records(cells), in_key_order), rows
