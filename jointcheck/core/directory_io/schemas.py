"""Columns of the three import kinds (SPEC section 5) and the normaliser of every cell.

A checker takes the raw cell text and returns the normalised value, or an :class:`Invalid` with the
reason. Checkers never raise on bad input, and on the good path they do no more than a strip, a
dictionary look-up or one compiled regex: an import runs them a million times.

Normalised values, as they go into a record (a plain dict keyed by the English column names):

* text: surrounding whitespace removed; an empty optional text is ``""``;
* lists (departments, tags, skills, conflicts, method): the ``;``-joined, sorted, de-duplicated
  entries (input may also separate with the full-width ``；``, and methods with ``、``);
* enumerations: the English code (``企业`` -> ``enterprise``, ``重点`` -> ``key``);
* ``ratio_cap``: an ``int`` (per mille, 0..1000), ``None`` for key items.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from jointcheck.core.directory_io.credit_code import _fast_ok as _credit_code_ok
from jointcheck.core.directory_io.credit_code import credit_code_error
from jointcheck.core.directory_io.errors import HeaderError

__all__ = [
    "CATEGORIES",
    "INSPECTOR_KINDS",
    "KINDS",
    "METHODS",
    "SCHEMAS",
    "STATUSES",
    "TARGET_KINDS",
    "Checker",
    "Column",
    "Invalid",
    "Schema",
    "get_schema",
]


class Invalid:
    """A rejected cell value and why (the reason reads after the column name: 'is required')."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason

    def __repr__(self) -> str:
        return f"Invalid({self.reason!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Invalid) and other.reason == self.reason

    def __hash__(self) -> int:
        return hash(self.reason)


Checker = Callable[[str], object]

# ---------------------------------------------------------------------------------------------
# Enumerations: canonical English code -> accepted spellings (English ones case-insensitively).

TARGET_KINDS = {
    "enterprise": ("企业",),
    "individual": ("个体工商户", "个体户"),
    "product": ("产品",),
    "project": ("项目",),
    "behaviour": ("行为", "behavior"),
}
STATUSES = {"active": ("存续", "在营", "开业"), "deregistered": ("注销", "吊销", "已注销", "已吊销")}
INSPECTOR_KINDS = {"enforcement": ("执法人员", "执法"), "expert": ("专家",)}
CATEGORIES = {"general": ("一般", "一般检查事项"), "key": ("重点", "重点检查事项")}
METHODS = {"onsite": ("实地核查",), "documentary": ("书面检查",), "online": ("网络监测",)}
RISK_CLASSES = ("A", "B", "C", "D")

# GB/T 4754-2017: the divisions (2-digit codes) of each section letter.
_SECTIONS = {
    "A": (1, 5), "B": (6, 12), "C": (13, 43), "D": (44, 46), "E": (47, 50), "F": (51, 52),
    "G": (53, 60), "H": (61, 62), "I": (63, 65), "J": (66, 69), "K": (70, 70), "L": (71, 72),
    "M": (73, 75), "N": (76, 79), "O": (80, 82), "P": (83, 83), "Q": (84, 85), "R": (86, 90),
    "S": (91, 97), "T": (98, 98),
}  # fmt: skip
_SECTION_OF_DIVISION = {d: letter for letter, (lo, hi) in _SECTIONS.items() for d in range(lo, hi + 1)}

CODE_MAX = 64
TARGET_NAME_MAX = 500
ADDRESS_MAX = 500
CERT_NO_MAX = 32
TAG_MAX = 64
LIST_SEPARATORS = (";", "；")

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_BUT_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_INDUSTRY = re.compile(r"([A-T])?([0-9]{2,4})?", re.ASCII)
_WHITESPACE = re.compile(r"\s")


def _describe_char(ch: str) -> str:
    names = {"\t": "a tab", "\n": "a line break", "\r": "a line break", "\u2028": "a line break", "\u2029": "a line break"}
    return names.get(ch, f"the control character U+{ord(ch):04X}")


# ---------------------------------------------------------------------------------------------
# Checker factories.


def text_checker(*, required: bool, max_len: int, multiline: bool = False) -> Checker:
    """Free text: stripped; no control characters (line breaks allowed when `multiline`)."""
    control = _CONTROL_BUT_BREAKS if multiline else _CONTROL

    def slow(value: str) -> object:
        if not value:
            return Invalid("is required") if required else ""
        if len(value) > max_len:
            return Invalid(f"is {len(value)} characters long, at most {max_len} allowed")
        bad = control.search(value)
        if bad is not None:
            return Invalid(f"contains {_describe_char(bad.group())}")
        return value

    def check(raw: str) -> object:
        value = raw.strip()
        if value and len(value) <= max_len and value.isprintable():
            return value
        return slow(value)

    return check


def code_checker(*, required: bool = True, max_len: int = CODE_MAX, what: str = "code") -> Checker:
    """An identifier: non-empty, at most `max_len` characters, no tab, line break or control char."""

    def check(raw: str) -> object:
        value = raw.strip()
        if value and len(value) <= max_len and value.isprintable():
            return value
        if not value:
            return Invalid("is required") if required else ""
        if len(value) > max_len:
            return Invalid(f"is {len(value)} characters long, a {what} has at most {max_len}")
        bad = _CONTROL.search(value)
        if bad is not None:
            return Invalid(f"contains {_describe_char(bad.group())}")
        return value

    return check


def check_credit_code(raw: str) -> object:
    """A unified social credit code, upper-cased; the reason names the expected check digit."""
    value = raw.strip().upper()
    if _credit_code_ok(value):
        return value
    return Invalid(credit_code_error(value) or "is not a credit code")


def check_cert_no(raw: str) -> object:
    value = raw.strip()
    if not value:
        return Invalid("is required")
    if _WHITESPACE.search(value):
        return Invalid("must not contain spaces")
    if len(value) > CERT_NO_MAX:
        return Invalid(f"is {len(value)} characters long, at most {CERT_NO_MAX} allowed")
    bad = _CONTROL.search(value)
    if bad is not None:
        return Invalid(f"contains {_describe_char(bad.group())}")
    return value


def enum_checker(choices: dict[str, tuple[str, ...]], *, required: bool, default: str | None = None) -> Checker:
    """One of `choices` (English codes case-insensitively, or a listed Chinese spelling)."""
    table: dict[str, str] = {}
    for code, spellings in choices.items():
        table[code] = code
        for spelling in spellings:
            table[spelling.lower()] = code
    listing = ", ".join(choices) + " (or " + ", ".join(s for spellings in choices.values() for s in spellings if not s.isascii()) + ")"

    def check(raw: str) -> object:
        value = raw.strip()
        found = table.get(value) or table.get(value.lower())
        if found is not None:
            return found
        if not value:
            if default is not None:
                return default
            return Invalid("is required") if required else ""
        return Invalid(f"must be one of {listing}")

    return check


def check_risk(raw: str) -> object:
    value = raw.strip().upper()
    if value.endswith("类"):
        value = value[:-1].strip()
    if value in RISK_CLASSES:
        return value
    if not value:
        return Invalid("is required")
    return Invalid("must be a credit-risk class A, B, C or D")


def region_checker(*, required: bool) -> Checker:
    """A GB/T 2260 region code: six ASCII digits, not starting with 00 (as jointcheck.core.regions)."""

    def check(raw: str) -> object:
        value = raw.strip()
        if len(value) == 6 and value.isascii() and value.isdigit() and not value.startswith("00"):
            return value
        if not value:
            return Invalid("is required") if required else ""
        return Invalid("must be a 6-digit region code (GB/T 2260), e.g. 440106")

    return check


def check_industry(raw: str) -> object:
    """A GB/T 4754-2017 code: section letter, optionally with its 2-4 digit division/group/class
    ("C", "C13", "C131", "C1311"); digits alone get their section letter ("5123" -> "F5123")."""
    value = raw.strip().upper()
    if not value:
        return ""
    match = _INDUSTRY.fullmatch(value)
    if match is None or match.group() == "":
        return Invalid("must be a GB/T 4754 industry code: a letter A-T, optionally followed by 2-4 digits, e.g. C1311")
    letter, digits = match.groups()
    if digits is None:
        return value
    section = _SECTION_OF_DIVISION.get(int(digits[:2]))
    if section is None:
        return Invalid(f"division {digits[:2]} does not exist in GB/T 4754")
    if letter is None:
        return section + digits
    if letter != section:
        return Invalid(f"division {digits[:2]} belongs to section {section}, not {letter}")
    return value


def list_checker(item: Checker, *, required: bool, separators: Sequence[str] = LIST_SEPARATORS, what: str = "entries") -> Checker:
    """A `;`-separated list: each entry checked by `item`, result sorted, unique and `;`-joined."""
    extra = [sep for sep in separators if sep != ";"]

    def check(raw: str) -> object:
        for sep in extra:
            if sep in raw:
                raw = raw.replace(sep, ";")
        good = set()
        bad = []
        for part in raw.split(";"):
            if not part.strip():
                continue
            value = item(part)
            if value.__class__ is Invalid:
                bad.append(f"'{part.strip()}' {value.reason}")
            else:
                good.add(value)
        if bad:
            return Invalid("; ".join(bad))
        if not good and required:
            return Invalid(f"is required (one or more {what}, separated by ;)")
        return ";".join(sorted(good))

    return check


def department_checker(known: Iterable[str]) -> Checker:
    """A known department code (exactly, or differing only in case when that is unambiguous)."""
    known = frozenset(known)
    folded: dict[str, str | None] = {}
    for code in known:
        key = code.lower()
        folded[key] = None if key in folded else code

    def check(raw: str) -> object:
        value = raw.strip()
        if value in known:
            return value
        if not value:
            return Invalid("is required")
        found = folded.get(value.lower())
        if found is not None:
            return found
        if ";" in value or "；" in value:
            return Invalid("must be a single department code")
        return Invalid("is not a known department code")

    return check


def check_ratio_cap(raw: str) -> object:
    """Per mille, an integer 0..1000 ('30', '30‰'); a percentage is converted ('3%' -> 30,
    '2.5%' -> 25) when it is a whole number of per mille. Empty gives None."""
    value = raw.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        number = int(value)
    else:
        text, scale = value, 1
        if text.endswith(("‰",)):
            text = text[:-1].strip()
        elif text.endswith(("%", "％")):
            text, scale = text[:-1].strip(), 10
        try:
            exact = Decimal(text) * scale
        except InvalidOperation:
            return Invalid("must be a whole number of per mille (‰) from 0 to 1000, e.g. 30")
        if not exact.is_finite() or exact != exact.to_integral_value():
            return Invalid("must be a whole number of per mille (‰) from 0 to 1000, e.g. 30")
        number = int(exact)
    if not 0 <= number <= 1000:
        return Invalid(f"is {number}‰, must be from 0 to 1000")
    return number


def check_conflict_code(raw: str) -> object:
    """A target code in a conflicts list: a credit code is upper-cased, any other code kept."""
    value = _generic_code(raw)
    if value.__class__ is str and len(value) == 18:
        upper = value.upper()
        if _credit_code_ok(upper):
            return upper
    return value


_generic_code = code_checker()


# ---------------------------------------------------------------------------------------------
# The schemas.


@dataclass(frozen=True, slots=True)
class Column:
    key: str  # English header and record key
    zh: str  # Chinese header
    required: bool  # the column must be in the header (a required cell may still be conditional)
    low_cardinality: bool  # few distinct values: a validator may cache normalised results by raw text
    description: str

    @property
    def label(self) -> str:
        """How a report names the column: '统一社会信用代码 (code)'."""
        return f"{self.zh} ({self.key})"


@dataclass(frozen=True)
class Schema:
    kind: str  # 'targets' | 'inspectors' | 'items'
    columns: tuple[Column, ...]
    unique_key: str  # the column whose value must be unique in a file
    _checkers: Callable[[frozenset[str]], dict[str, Checker]]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(column.key for column in self.columns)

    def column(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)

    def label(self, key: str) -> str:
        try:
            return self.column(key).label
        except KeyError:
            return key

    def headers(self, language: str = "en") -> list[str]:
        if language not in ("en", "zh"):
            raise ValueError("language must be 'en' or 'zh'")
        return [column.key if language == "en" else column.zh for column in self.columns]

    def checkers(self, known_departments: Iterable[str]) -> dict[str, Checker]:
        """One checker per column; the department columns check against `known_departments`."""
        return self._checkers(frozenset(known_departments))

    def present(self, keys: Sequence[str | None]) -> tuple[str, ...]:
        """The fields a matched header names, in field order: an upsert leaves the others alone."""
        return tuple(key for key in self.fields if key in keys)

    def match_header(self, header: Sequence[str]) -> list[str | None]:
        """The column key of each header cell (None for an empty cell), or HeaderError listing every
        unknown, missing and duplicated column at once. English names match case-insensitively,
        Chinese exactly, both after trimming whitespace and BOMs; '统一社会信用代码 (code)' also works."""
        lookup = self._lookup()
        keys: list[str | None] = []
        unknown: list[str] = []
        seen: dict[str, str] = {}
        duplicated: list[str] = []
        for cell in header:
            name = (cell or "").replace("\ufeff", "").strip()
            if not name:
                keys.append(None)
                continue
            key = _match_name(name, lookup)
            if key is None:
                unknown.append(name)
                keys.append(None)
                continue
            if key in seen:
                label = self.label(key)
                if label not in duplicated:
                    duplicated.append(label)
            seen[key] = name
            keys.append(key)
        missing = [column.label for column in self.columns if column.required and column.key not in seen]
        if unknown or missing or duplicated:
            names = list(lookup)
            hints = {}
            for name in unknown:
                close = difflib.get_close_matches(name.lower(), names, n=1, cutoff=0.6)
                if close:
                    hints[name] = self.label(lookup[close[0]])
            raise HeaderError(self.kind, unknown=unknown, missing=missing, duplicated=duplicated, hints=hints)
        return keys

    def _lookup(self) -> dict[str, str]:
        table = {}
        for column in self.columns:
            table[column.key.lower()] = column.key
            table[column.zh] = column.key
        return table


_BILINGUAL = re.compile(r"(.+?)\s*[(（]\s*([A-Za-z_]+)\s*[)）]")


def _match_name(name: str, lookup: dict[str, str]) -> str | None:
    key = lookup.get(name) or lookup.get(name.lower())
    if key is not None:
        return key
    both = _BILINGUAL.fullmatch(name)
    if both is not None:
        first, second = lookup.get(both.group(1).strip()), lookup.get(both.group(2).lower())
        if first is not None and first == second:
            return first
    return None


def _target_checkers(known: frozenset[str]) -> dict[str, Checker]:
    return {
        "code": _generic_code,  # validation applies check_credit_code to enterprises and individuals
        "name": text_checker(required=True, max_len=TARGET_NAME_MAX),
        "kind": enum_checker(TARGET_KINDS, required=True),
        "region": region_checker(required=True),
        "industry": check_industry,
        "risk": check_risk,
        "departments": list_checker(department_checker(known), required=True, what="department codes"),
        "tags": list_checker(code_checker(max_len=TAG_MAX, what="tag"), required=False),
        "status": enum_checker(STATUSES, required=False, default="active"),
        "address": text_checker(required=False, max_len=ADDRESS_MAX),
    }


def _inspector_checkers(known: frozenset[str]) -> dict[str, Checker]:
    return {
        "cert_no": check_cert_no,
        "name": text_checker(required=True, max_len=200),
        "department": department_checker(known),
        "kind": enum_checker(INSPECTOR_KINDS, required=False, default="enforcement"),
        "skills": list_checker(code_checker(max_len=TAG_MAX, what="skill"), required=False),
        "region": region_checker(required=False),
        "conflicts": list_checker(check_conflict_code, required=False),
    }


def _item_checkers(known: frozenset[str]) -> dict[str, Checker]:
    return {
        "code": _generic_code,
        "department": department_checker(known),
        "name": text_checker(required=True, max_len=500),
        "category": enum_checker(CATEGORIES, required=True),
        "basis": text_checker(required=True, max_len=4000, multiline=True),
        "subject": text_checker(required=False, max_len=4000, multiline=True),
        "content": text_checker(required=False, max_len=4000, multiline=True),
        "method": list_checker(enum_checker(METHODS, required=True), required=True, separators=(";", "；", "、"), what="methods"),
        "object_kind": enum_checker(TARGET_KINDS, required=True),
        "ratio_cap": check_ratio_cap,  # validation requires it for general items, refuses it for key items
    }


def _col(key: str, zh: str, required: bool, low: bool, description: str) -> Column:
    return Column(key, zh, required, low, description)


TARGETS = Schema(
    "targets",
    (
        _col("code", "统一社会信用代码", True, False, "credit code (enterprise, individual) or own code (product, project, behaviour)"),
        _col("name", "名称", True, False, "name"),
        _col("kind", "类型", True, True, "enterprise, individual, product, project or behaviour"),
        _col("region", "行政区划", True, True, "GB/T 2260 region code, 6 digits"),
        _col("industry", "行业", False, True, "GB/T 4754 industry code"),
        _col("risk", "信用风险分类", True, True, "credit-risk class A-D"),
        _col("departments", "监管部门", True, True, "responsible department codes, ;-separated"),
        _col("tags", "标签", False, True, "tags, ;-separated"),
        _col("status", "状态", False, True, "active (default) or deregistered"),
        _col("address", "地址", False, False, "address"),
    ),
    "code",
    _target_checkers,
)

INSPECTORS = Schema(
    "inspectors",
    (
        _col("cert_no", "执法证号", True, False, "law-enforcement certificate number"),
        _col("name", "姓名", True, False, "name"),
        _col("department", "部门", True, True, "department code"),
        _col("kind", "人员类别", False, True, "enforcement (default) or expert"),
        _col("skills", "业务专长", False, True, "skills, ;-separated"),
        _col("region", "行政区划", False, True, "GB/T 2260 region code"),
        _col("conflicts", "回避对象", False, False, "target codes this inspector must not inspect, ;-separated"),
    ),
    "cert_no",
    _inspector_checkers,
)

ITEMS = Schema(
    "items",
    (
        _col("code", "事项编码", True, False, "item code"),
        _col("department", "部门", True, True, "department code"),
        _col("name", "事项名称", True, False, "item name"),
        _col("category", "事项类别", True, True, "general (一般) or key (重点)"),
        _col("basis", "抽查依据", True, False, "legal basis"),
        _col("subject", "抽查主体", False, True, "inspecting body"),
        _col("content", "抽查内容", False, False, "what is checked"),
        _col("method", "抽查方式", True, True, "onsite, documentary, online; ;-separated"),
        _col("object_kind", "检查对象", True, True, "target kind"),
        _col("ratio_cap", "比例上限", False, True, "per mille cap; required for general items, empty for key items"),
    ),
    "code",
    _item_checkers,
)

SCHEMAS = {schema.kind: schema for schema in (TARGETS, INSPECTORS, ITEMS)}
KINDS = tuple(SCHEMAS)


def get_schema(kind: str) -> Schema:
    try:
        return SCHEMAS[kind]
    except KeyError:
        raise ValueError(f"unknown directory kind {kind!r}; expected one of {', '.join(KINDS)}") from None
