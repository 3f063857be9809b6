"""One pass over the rows of an import file: normalised good records out, every bad cell recorded.

    validation = validate_rows("targets", header, rows, known_departments={"SAMR", "TAX"})
    for record in validation:          # or validation.tuples() for tuples in schema.fields order
        ...                            # buffer or stage it; nothing is final until the pass ends
    if validation.errors: ...          # RowError(line, column, value, reason), in file order

Rules on top of the per-cell checkers of `schemas`:

* targets: the code of an enterprise or individual business must be a valid credit code
  (upper-cased); other kinds take any code (see `schemas.code_checker`). When the kind itself is
  invalid only the generic code rule is applied.
* items: `ratio_cap` is required for a general item and must be empty for a key item (a cap on a
  key item means the category or the cap is a mistake, so it is refused rather than ignored).
* the unique key (targets `code`, inspectors `cert_no`, items `code`) may appear only once in a
  file; a repeat is an error on the later line naming the first ("duplicate of line 5").
* rows whose cells are all empty are skipped; cells beyond the header are an error unless empty;
  missing trailing cells count as empty.
* a column absent from the header is treated as empty in every row (its default applies);
  `present` tells which columns the file had, so an upsert can leave the others untouched.

Speed: the hot loop is written out per kind; a low-cardinality column (kind, region, risk,
departments, ...) is checked once per distinct raw text and then found in a dict; a good row costs
one `itemgetter`, a handful of dict look-ups, the credit-code check and the record's dict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter

from jointcheck.core.directory_io.credit_code import _fast_ok as _credit_code_ok
from jointcheck.core.directory_io.errors import BadRow, DirectoryFileError, RowError
from jointcheck.core.directory_io.readers import open_table
from jointcheck.core.directory_io.schemas import ADDRESS_MAX, TARGET_NAME_MAX, Checker, Invalid, Schema, check_credit_code, get_schema

__all__ = ["Validation", "validate_file", "validate_rows"]

_MEMO_LIMIT = 50_000


def _memo_miss(problems: list) -> Callable:
    """The slow path of a look-up in a memo dict (raw cell text -> normalised value) of a column
    with few distinct values: run the checker once per distinct text and remember a valid result;
    an invalid one is reported to `problems` and not remembered, so each bad cell is reported."""
    append = problems.append

    def miss(memo: dict, check: Checker, key: str, raw: str) -> object:
        value = check(raw)
        if value.__class__ is Invalid:
            append((key, raw, value.reason))
        elif len(memo) < _MEMO_LIMIT:
            memo[raw] = value
        return value

    return miss


class Validation:
    """Validates the rows of one file in one pass; iterate it (once) for the good records."""

    def __init__(
        self,
        kind: str,
        header: list[str],
        rows: Iterable[tuple[int, list[str]]],
        known_departments: Iterable[str],
        *,
        header_line: int = 1,
        max_errors: int | None = None,
        on_close=None,
    ):
        self.schema: Schema = get_schema(kind)
        self.kind = kind
        self.header = list(header)
        self.header_line = header_line
        keys = self.schema.match_header(self.header)  # HeaderError before any row is read
        self.present: tuple[str, ...] = self.schema.present(keys)
        self.errors: list[RowError] = []
        self.bad_rows: list[BadRow] = []
        self.error_count = 0  # all errors, even past max_errors
        self.bad_row_count = 0
        self.rows_ok = 0
        self.truncated = False  # True when more than max_errors errors were found
        self.finished = False
        self._max_errors = max_errors
        self._rows = rows
        self._on_close = on_close
        self._consumed = False
        self._checkers = self.schema.checkers(known_departments)
        self._width = len(self.header)
        self._unnamed = tuple(i for i, key in enumerate(keys) if key is None)
        # Each field's position in a row; an absent column reads a "" appended to every row.
        index = {key: i for i, key in enumerate(keys) if key is not None}
        self._take = itemgetter(*(index.get(key, self._width) for key in self.schema.fields))
        self._pad = len(index) < len(self.schema.fields)
        self._unique_seen: dict[str, int] = {}
        self._problems: list[tuple[str, str, str]] = []
        self._field_order = {key: i for i, key in enumerate(self.schema.fields)}

    # -- results ---------------------------------------------------------------------------------

    @property
    def ok(self) -> bool:
        """True once every row was read and none was bad."""
        return self.finished and self.error_count == 0

    @property
    def rows_read(self) -> int:
        """Data rows seen (blank rows not counted)."""
        return self.rows_ok + self.bad_row_count

    # -- iteration -------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[dict]:
        return self._run(as_dict=True)

    def records(self) -> Iterator[dict]:
        return self._run(as_dict=True)

    def tuples(self) -> Iterator[tuple]:
        """Good records as tuples in `schema.fields` order (cheaper than dicts for executemany)."""
        return self._run(as_dict=False)

    def close(self) -> None:
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            on_close()

    def __enter__(self) -> Validation:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _run(self, as_dict: bool) -> Iterator:
        if self._consumed:
            raise RuntimeError("a Validation can be iterated only once")
        self._consumed = True
        loop = {"targets": self._targets, "inspectors": self._inspectors, "items": self._items}[self.kind]
        try:
            yield from loop(as_dict)
            self.finished = True
        finally:
            self.close()

    # -- the slow paths ----------------------------------------------------------------------------

    def _fit(self, line: int, cells: list[str]) -> list[str] | None:
        """A row whose length differs from the header: cut or padded to the header's width, or
        None for a blank row. Non-empty cells beyond the header are reported as a row problem."""
        width = self._width
        if len(cells) < width:
            if not any(cell.strip() for cell in cells):
                return None
            return cells + [""] * (width - len(cells))
        extra = [cell for cell in cells[width:] if cell.strip()]
        if extra:
            self._problems.append(
                ("", "; ".join(extra), f"has {len(cells)} cells but the header has {width}: cells beyond the last column")
            )
        elif not any(cell.strip() for cell in cells):
            return None
        return cells[:width]

    def _check_unnamed(self, cells: list[str]) -> None:
        for i in self._unnamed:
            if cells[i].strip():
                self._problems.append(("", cells[i], f"cell {i + 1} has a value but its column has no header"))

    def _reject(self, line: int, cells: list[str], unique_value: object) -> None:
        """Record the row's problems (self._problems), unless the row is blank."""
        problems = self._problems
        original = cells[: self._width]  # without the pad of absent columns
        if not any(cell.strip() for cell in original):
            problems.clear()
            return
        if unique_value.__class__ is str:
            first = self._unique_seen.setdefault(unique_value, line)
            if first != line:
                problems.append((self.schema.unique_key, unique_value, f"duplicate of line {first}"))
        order = self._field_order
        problems.sort(key=lambda p: order.get(p[0], -1))
        errors = tuple(RowError(line, key, raw, reason) for key, raw, reason in problems)
        problems.clear()
        self.error_count += len(errors)
        self.bad_row_count += 1
        if self._max_errors is not None and len(self.errors) + len(errors) > self._max_errors:
            self.truncated = True
            return
        self.errors.extend(errors)
        self.bad_rows.append(BadRow(line, tuple(original), errors))

    def _duplicate(self, line: int, cells: list[str], value: str, first: int) -> None:
        self._problems.append((self.schema.unique_key, value, f"duplicate of line {first}"))
        self._reject(line, cells, None)

    # -- the hot loops -----------------------------------------------------------------------------

    def _targets(self, as_dict: bool) -> Iterator:
        ck = self._checkers
        problems = self._problems
        problem = problems.append
        miss = _memo_miss(problems)
        m_kind, c_kind = {}, ck["kind"]
        m_region, c_region = {}, ck["region"]
        m_industry, c_industry = {}, ck["industry"]
        m_risk, c_risk = {}, ck["risk"]
        m_departments, c_departments = {}, ck["departments"]
        m_tags, c_tags = {}, ck["tags"]
        m_status, c_status = {}, ck["status"]
        check_code, check_name, check_address = ck["code"], ck["name"], ck["address"]
        credit_ok, check_credit = _credit_code_ok, check_credit_code
        name_max, address_max = TARGET_NAME_MAX, ADDRESS_MAX
        take, width, pad, fit, unnamed = self._take, self._width, self._pad, self._fit, self._unnamed
        seen = self._unique_seen.setdefault
        reject, duplicate = self._reject, self._duplicate
        I = Invalid  # noqa: E741
        good = 0
        try:
            for line, cells in self._rows:
                if len(cells) != width:
                    cells = fit(line, cells)
                    if cells is None:
                        continue
                if pad:
                    cells.append("")
                if unnamed:
                    self._check_unnamed(cells)
                code, name, kind, region, industry, risk, departments, tags, status, address = take(cells)
                # Low-cardinality columns: a dict hit, or the checker once per distinct text.
                try:
                    kind_v = m_kind[kind]
                except KeyError:
                    kind_v = miss(m_kind, c_kind, "kind", kind)
                try:
                    region_v = m_region[region]
                except KeyError:
                    region_v = miss(m_region, c_region, "region", region)
                try:
                    industry_v = m_industry[industry]
                except KeyError:
                    industry_v = miss(m_industry, c_industry, "industry", industry)
                try:
                    risk_v = m_risk[risk]
                except KeyError:
                    risk_v = miss(m_risk, c_risk, "risk", risk)
                try:
                    departments_v = m_departments[departments]
                except KeyError:
                    departments_v = miss(m_departments, c_departments, "departments", departments)
                try:
                    tags_v = m_tags[tags]
                except KeyError:
                    tags_v = miss(m_tags, c_tags, "tags", tags)
                try:
                    status_v = m_status[status]
                except KeyError:
                    status_v = miss(m_status, c_status, "status", status)
                # The code: a credit code (checked as it is, then stripped and upper-cased) or,
                # for other kinds, any code.
                if kind_v == "enterprise" or kind_v == "individual":
                    if credit_ok(code):
                        code_v = code
                    else:
                        code_v = code.strip().upper()
                        if not credit_ok(code_v):
                            code_v = check_credit(code)
                            problem(("code", code, code_v.reason))
                else:
                    code_v = check_code(code)
                    if code_v.__class__ is I:
                        problem(("code", code, code_v.reason))
                # Free text: the fast path of schemas.text_checker, inlined.
                name_v = name.strip()
                if not name_v or len(name_v) > name_max or not name_v.isprintable():
                    name_v = check_name(name)
                    if name_v.__class__ is I:
                        problem(("name", name, name_v.reason))
                if address:
                    address_v = address.strip()
                    if len(address_v) > address_max or not address_v.isprintable():
                        address_v = check_address(address)
                        if address_v.__class__ is I:
                            problem(("address", address, address_v.reason))
                else:
                    address_v = ""
                if problems:
                    reject(line, cells, code_v)
                    continue
                first = seen(code_v, line)
                if first != line:
                    duplicate(line, cells, code_v, first)
                    continue
                good += 1
                if as_dict:
                    yield {
                        "code": code_v, "name": name_v, "kind": kind_v, "region": region_v,
                        "industry": industry_v, "risk": risk_v, "departments": departments_v,
                        "tags": tags_v, "status": status_v, "address": address_v,
                    }  # fmt: skip
                else:
                    yield (code_v, name_v, kind_v, region_v, industry_v, risk_v, departments_v, tags_v, status_v, address_v)
        finally:
            self.rows_ok += good

    def _generic(self, as_dict: bool, after: Callable | None = None) -> Iterator:
        """Inspectors and items (thousands of rows, not millions): one loop over the columns."""
        ck = self._checkers
        problems = self._problems
        problem = problems.append
        miss = _memo_miss(problems)
        plan = []
        for key in self.schema.fields:
            column = self.schema.column(key)
            plan.append((key, ck[key], {} if column.low_cardinality else None))
        unique_at = self.schema.fields.index(self.schema.unique_key)
        fields = self.schema.fields
        take, width, pad, fit, unnamed = self._take, self._width, self._pad, self._fit, self._unnamed
        seen = self._unique_seen.setdefault
        reject, duplicate = self._reject, self._duplicate
        I = Invalid  # noqa: E741
        good = 0
        try:
            for line, cells in self._rows:
                if len(cells) != width:
                    cells = fit(line, cells)
                    if cells is None:
                        continue
                if pad:
                    cells.append("")
                if unnamed:
                    self._check_unnamed(cells)
                values = []
                for (key, check, memo), raw in zip(plan, take(cells)):
                    if memo is not None:
                        try:
                            value = memo[raw]
                        except KeyError:
                            value = miss(memo, check, key, raw)
                    else:
                        value = check(raw)
                        if value.__class__ is I:
                            problem((key, raw, value.reason))
                    values.append(value)
                if after is not None:
                    after(values, take(cells), problem)
                unique_v = values[unique_at]
                if problems:
                    reject(line, cells, unique_v)
                    continue
                first = seen(unique_v, line)
                if first != line:
                    duplicate(line, cells, unique_v, first)
                    continue
                good += 1
                yield dict(zip(fields, values)) if as_dict else tuple(values)
        finally:
            self.rows_ok += good

    def _inspectors(self, as_dict: bool) -> Iterator:
        return self._generic(as_dict)

    def _items(self, as_dict: bool) -> Iterator:
        fields = self.schema.fields
        at_category, at_cap = fields.index("category"), fields.index("ratio_cap")

        def ratio_cap_rule(values: list, raws: tuple, problem: Callable) -> None:
            category, cap = values[at_category], values[at_cap]
            if cap.__class__ is Invalid:
                return
            if category == "general" and cap is None:
                problem(("ratio_cap", raws[at_cap], "is required for a general item (per mille, 0-1000)"))
            elif category == "key" and cap is not None:
                problem(("ratio_cap", raws[at_cap], "must be empty: key items have no ratio cap"))

        return self._generic(as_dict, ratio_cap_rule)


def validate_rows(
    kind: str,
    header: list[str],
    rows: Iterable[tuple[int, list[str]]],
    known_departments: Iterable[str],
    *,
    header_line: int = 1,
    max_errors: int | None = None,
) -> Validation:
    """Check `header` now (HeaderError lists every problem); iterate the result for the records.

    `rows` yields (line_number, cells) as `readers.read_rows` does, without the header (a cell list
    may get a "" appended when the header lacks optional columns). Errors past `max_errors` are
    counted (`error_count`) but not kept."""
    return Validation(kind, header, rows, known_departments, header_line=header_line, max_errors=max_errors)


def validate_file(
    kind: str,
    source,
    known_departments: Iterable[str],
    *,
    filename: str | None = None,
    max_errors: int | None = None,
) -> Validation:
    """Open a CSV/XLSX file (path, or binary file object with `filename`), read its header (the
    first non-blank row) and return the Validation of the remaining rows. The file is closed when
    the iteration ends or on `close()` (the Validation is a context manager)."""
    table = open_table(source, filename=filename)
    try:
        rows = table.rows()
        for line, cells in rows:  # noqa: B007  (the header line is read after the loop)
            if any(cell.strip() for cell in cells):
                break
        else:
            raise DirectoryFileError("the file is empty: the first row must name the columns")
        return Validation(kind, cells, rows, known_departments, header_line=line, max_errors=max_errors, on_close=table.close)
    except BaseException:
        table.close()
        raise
