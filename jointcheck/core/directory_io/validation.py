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

import hashlib
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter

from jointcheck.core.directory_io.credit_code import _fast_ok as _credit_code_ok
from jointcheck.core.directory_io.errors import BadRow, RowError
from jointcheck.core.directory_io.readers import open_table
from jointcheck.core.directory_io.schemas import (
    ADDRESS_MAX,
    EXCEL_NUMBER,
    REGISTERED_KINDS,
    TARGET_NAME_MAX,
    Checker,
    ColumnMapping,
    Invalid,
    Schema,
    check_credit_code,
    get_schema,
    region_by_name,
)

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
            append((key, raw, value))
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
        mapping: ColumnMapping | None = None,
        region_from_address: bool = False,
        layout=None,
    ):
        self.schema: Schema = get_schema(kind)
        self.kind = self.schema.kind
        self.mapping = mapping or ColumnMapping()
        self.layout = layout  # layout.Layout when the file's layout was looked for
        self.region_from_address = region_from_address
        self.header = list(header)
        self.header_line = header_line
        keys = self.schema.match_header(self.header, self.mapping)  # HeaderError before any row is read
        self.keys = keys
        present = self.schema.present(keys)
        if self.kind == "targets" and "code" not in present:  # the key comes from the 注册号 column
            present = ("code", *present)
        if region_from_address and "region" not in present:
            present = self.schema.present([*present, "region"])
        self.present: tuple[str, ...] = present
        self.errors: list[RowError] = []
        self.bad_rows: list[BadRow] = []
        self.error_count = 0  # all errors, even past max_errors
        self.bad_row_count = 0
        self.rows_ok = 0
        self.truncated = False  # True when more than max_errors errors were found
        self.generated: list[tuple[str, str]] = []  # (code, name) of items whose code was made here
        self.finished = False
        self._max_errors = max_errors
        self._rows = rows
        self._on_close = on_close
        self._consumed = False
        self._checkers = self.schema.checkers(known_departments)
        self._width = len(self.header)
        # Cells under no header at all must be empty; an ignored column's may hold anything.
        self._unnamed = tuple(i for i, key in enumerate(keys) if key is None and not (self.header[i] or "").strip())
        # Each field's position in a row; an absent column reads a "" appended to every row.
        index = {key: i for i, key in enumerate(keys) if key is not None}
        read = self.schema.read_fields
        self._take = itemgetter(*(index.get(key, self._width) for key in read))
        self._pad = len(index) < len(read)
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
        loop = {"targets": self._targets, "inspectors": self._inspectors, "items": self._items, "joint_items": self._joint_items}[self.kind]
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
                (
                    "",
                    "; ".join(extra),
                    Invalid("has {cells} cells but the header has {width}: cells beyond the last column", cells=len(cells), width=width),
                )
            )
        elif not any(cell.strip() for cell in cells):
            return None
        return cells[:width]

    def _check_unnamed(self, cells: list[str]) -> None:
        for i in self._unnamed:
            if cells[i].strip():
                self._problems.append(("", cells[i], Invalid("cell {cell} has a value but its column has no header", cell=i + 1)))

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
                problems.append((self.schema.unique_key, unique_value, Invalid("duplicate of line {first}", first=first)))
        order = self._field_order
        problems.sort(key=lambda p: order.get(p[0], -1))
        errors = tuple(_row_error(line, key, raw, reason) for key, raw, reason in problems)
        problems.clear()
        self.error_count += len(errors)
        self.bad_row_count += 1
        if self._max_errors is not None and len(self.errors) + len(errors) > self._max_errors:
            self.truncated = True
            return
        self.errors.extend(errors)
        self.bad_rows.append(BadRow(line, tuple(original), errors))

    def _registration_number(self, code: str, reg_no: str) -> object:
        """The key of a registered target without a credit code: its 15-digit 注册号, or a refusal."""
        if not reg_no.strip():
            reason = Invalid("is empty and there is no registration number (注册号) either: a target needs one of them")
            self._problems.append(("code", code, reason))
            return reason
        value = self._checkers["reg_no"](reg_no)
        if value.__class__ is Invalid:
            self._problems.append(("reg_no", reg_no, value))
        return value

    def _duplicate(self, line: int, cells: list[str], value: str, first: int) -> None:
        self._problems.append((self.schema.unique_key, value, Invalid("duplicate of line {first}", first=first)))
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
        registered = REGISTERED_KINDS
        derive_region = _region_of_address if self.region_from_address else None
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
                code, name, kind, region, industry, risk, departments, tags, status, address, reg_no = take(cells)
                # Low-cardinality columns: a dict hit, or the checker once per distinct text.
                try:
                    kind_v = m_kind[kind]
                except KeyError:
                    kind_v = miss(m_kind, c_kind, "kind", kind)
                if derive_region and not region.strip():
                    region_v = derive_region(address)
                    if region_v.__class__ is I:
                        problem(("region", address, region_v))
                else:
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
                if kind_v in registered:
                    if code.__class__ is not str:  # a number cell: refused even if its check digit passes
                        code_v = I(EXCEL_NUMBER)
                        problem(("code", code, code_v))
                    elif credit_ok(code):
                        code_v = code
                    else:
                        code_v = code.strip().upper()
                        if not credit_ok(code_v):
                            if not code_v:
                                code_v = self._registration_number(code, reg_no)
                            else:
                                code_v = check_credit(code)
                                problem(("code", code, code_v))
                else:
                    code_v = check_code(code)
                    if code_v.__class__ is I:
                        problem(("code", code, code_v))
                # Free text: the fast path of schemas.text_checker, inlined.
                name_v = name.strip()
                if not name_v or len(name_v) > name_max or not name_v.isprintable():
                    name_v = check_name(name)
                    if name_v.__class__ is I:
                        problem(("name", name, name_v))
                if address:
                    address_v = address.strip()
                    if len(address_v) > address_max or not address_v.isprintable():
                        address_v = check_address(address)
                        if address_v.__class__ is I:
                            problem(("address", address, address_v))
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
                            problem((key, raw, value))
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

    def _joint_items(self, as_dict: bool) -> Iterator:
        fields = self.schema.fields
        at_code, at_name = fields.index("code"), fields.index("name")
        generated = self.generated

        def code_rule(values: list, raws: tuple, problem: Callable) -> None:
            if not values[at_code] and values[at_name].__class__ is str:
                values[at_code] = generated_code("JOINT", values[at_name])
                generated.append((values[at_code], values[at_name]))

        return self._generic(as_dict, code_rule)

    def _items(self, as_dict: bool) -> Iterator:
        fields = self.schema.fields
        at_category, at_cap = fields.index("category"), fields.index("ratio_cap")
        at_code, at_department, at_name = fields.index("code"), fields.index("department"), fields.index("name")
        generated = self.generated

        def ratio_cap_rule(values: list, raws: tuple, problem: Callable) -> None:
            category, cap = values[at_category], values[at_cap]
            if cap.__class__ is Invalid:
                return
            if category == "key" and cap is not None:
                problem(("ratio_cap", raws[at_cap], Invalid("must be empty: key items have no ratio cap")))
            if not values[at_code] and values[at_department].__class__ is str and values[at_name].__class__ is str:
                values[at_code] = generated_code(values[at_department], values[at_name])
                generated.append((values[at_code], values[at_name]))

        return self._generic(as_dict, ratio_cap_rule)


def generated_code(department: str, name: str) -> str:
    """The code of an item whose list gives none: stable, from its department and name."""
    digest = hashlib.sha256(f"{department}\x00{' '.join(name.split())}".encode()).hexdigest()[:10].upper()
    return f"{department}-{digest}"


def _region_of_address(address: str) -> object:
    if not address.strip():
        return Invalid("is empty, and there is no address to find it in")
    return region_by_name(address, whole=False)


def _row_error(line: int, key: str, raw: str, reason: object) -> RowError:
    if reason.__class__ is Invalid:
        return RowError(line, key, raw, reason.reason, reason.template, tuple(reason.params.items()))
    return RowError(line, key, raw, str(reason))


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
    sheet: str | None = None,
    mapping: ColumnMapping | None = None,
    region_from_address: bool = False,
) -> Validation:
    """Open a CSV or spreadsheet (path, or binary file object with `filename`), find its header
    (`layout.find_layout`: title rows, a two-row header, merged cells, trailing notes) and return
    the Validation of its data rows. The file is closed when the iteration ends or on `close()`
    (the Validation is a context manager). `mapping.given` (--set) fills a column the file lacks,
    or the empty cells of one it has."""
    from jointcheck.core.directory_io.layout import find_layout

    schema = get_schema(kind)
    mapping = mapping or ColumnMapping()
    if region_from_address and schema.kind == "targets" and "region" not in mapping.given:
        # An empty region column: every row's region then comes from its address.
        mapping = ColumnMapping(mapping.names, {**mapping.given, "region": ""}, mapping.ignore_unknown)
    table = open_table(source, filename=filename, sheet=sheet)
    try:
        layout = find_layout(table, schema, mapping)
        header, rows = list(layout.header), layout.rows
        if mapping.given:
            header, rows = _with_given(schema, mapping, header, rows)
        return Validation(
            kind,
            header,
            rows,
            known_departments,
            header_line=layout.header_lines[1],
            max_errors=max_errors,
            on_close=table.close,
            mapping=mapping,
            region_from_address=region_from_address,
            layout=layout,
        )
    except BaseException:
        table.close()
        raise


def _with_given(schema: Schema, mapping: ColumnMapping, header: list[str], rows: Iterable) -> tuple[list[str], Iterator]:
    """The header and rows with the --set values: a column the file lacks is added (under its
    Chinese name), an empty cell of one it has is filled."""
    probe = ColumnMapping(mapping.names, dict(mapping.given), True)
    keys = schema.match_header(header, probe) if header else []
    fill: list[tuple[int, str]] = []
    header = list(header)
    for key, value in mapping.given.items():
        if key in keys:
            fill.append((keys.index(key), value))
        else:
            header.append(schema.column(key).zh)
            fill.append((len(header) - 1, value))
    width = len(header)

    def given_rows() -> Iterator:
        for line, cells in rows:
            if not any(cell.strip() for cell in cells):
                yield line, cells
                continue
            if len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            for at, value in fill:
                if not cells[at].strip():
                    cells[at] = value
            yield line, cells

    return header, given_rows()
