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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from jointcheck.core.directory_io.credit_code import _fast_ok as _credit_code_ok
from jointcheck.core.directory_io.credit_code import credit_code_reason, registration_number_reason
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
    """A rejected cell value and why (the reason reads after the column name: 'is required').

    `template` is the English sentence with `{name}` fields, the msgid of its translation in the
    gettext catalogs (report.translate_reason); `reason` is it filled in, in English."""

    __slots__ = ("params", "reason", "template")

    def __init__(self, template: str, **params: object):
        self.template = template
        self.params = params
        self.reason = template.format(**params) if params else template

    def __repr__(self) -> str:
        return f"Invalid({self.reason!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Invalid) and other.reason == self.reason

    def __hash__(self) -> int:
        return hash(self.reason)


Checker = Callable[[str], object]


class NumberText(str):
    """The text of a spreadsheet cell that held a number, not text (`readers`): 9.14690062012665E+17
    becomes '914690062012665000'. An identifier read from such a cell has been through a float, and
    a credit code has lost its last digits on the way."""

    __slots__ = ()


EXCEL_NUMBER = "Excel stored this code as a number and lost digits; format the column as text at the source and export again"
_E_NOTATION = re.compile(r"[0-9](\.[0-9]+)?[eE]\+?[0-9]+")

# ---------------------------------------------------------------------------------------------
# Enumerations: canonical English code -> accepted spellings (English ones case-insensitively).

TARGET_KINDS = {
    "enterprise": ("企业",),
    "individual": ("个体工商户", "个体户"),
    "cooperative": ("农民专业合作社", "合作社"),
    "product": ("产品",),
    "project": ("项目",),
    "behaviour": ("行为", "behavior"),
}
# Kinds whose code is a credit code (or, failing one, a 15-digit registration number).
REGISTERED_KINDS = frozenset({"enterprise", "individual", "cooperative"})
# The company-type names registration systems export (企业类型名称, 36 of them and their variants)
# map to kinds by these rules, first match wins: a name containing 个体 is an individual business
# (个体工商户); containing 合作社, a cooperative (农民专业合作社, ...分社, 联合社); containing any of the
# words below, an enterprise (有限责任公司(自然人投资或控股), 股份有限公司(上市), 个人独资企业,
# 普通合伙企业, 全民所有制, 集体所有制, 外国(地区)企业常驻代表机构, ...分公司, ...).
KIND_RULES = (
    ("individual", ("个体",)),
    ("cooperative", ("合作社",)),
    ("enterprise", ("公司", "企业", "合伙", "独资", "全民所有制", "集体所有制", "股份合作", "联营", "外商", "分支机构")),
)
STATUSES = {
    "active": ("存续", "在营", "开业", "正常", "在业", "在册", "存续(在营、开业、在册)", "存续（在营、开业、在册）"),
    "deregistered": ("注销", "吊销", "已注销", "已吊销", "撤销", "迁出", "已迁出", "吊销,未注销", "吊销，未注销", "吊销,已注销", "吊销，已注销"),
}  # fmt: skip
INSPECTOR_KINDS = {"enforcement": ("执法人员", "执法"), "expert": ("专家",)}
CATEGORIES = {"general": ("一般", "一般检查事项", "一般事项"), "key": ("重点", "重点检查事项", "重点事项")}
# The methods of check items; a new one is one more line here.
METHODS = {
    "onsite": ("现场检查", "实地核查", "实地检查"),
    "documentary": ("书面检查", "书面审查", "书面核查"),
    "online": ("网络检查", "网络监测", "网络核查"),
    "sampling": ("抽样检测", "抽样检验", "抽检"),
    "expert": ("专业机构核查", "委托专业机构核查"),
}
RISK_CLASSES = ("A", "B", "C", "D")
UNCLASSIFIED = "U"  # a target without a credit-risk class: its own stratum in a round
# 黑白名单: an inspector on the black list is kept in the roster but never drawn.
EXCLUDED = {"excluded": ("黑名单", "是", "排除", "yes", "true", "1"), "active": ("白名单", "否", "no", "false", "0")}

# GB/T 4754-2017: the divisions (2-digit codes) of each section letter.
_SECTIONS = {
    "A": (1, 5), "B": (6, 12), "C": (13, 43), "D": (44, 46), "E": (47, 50), "F": (51, 52),
    "G": (53, 60), "H": (61, 62), "I": (63, 65), "J": (66, 69), "K": (70, 70), "L": (71, 72),
    "M": (73, 75), "N": (76, 79), "O": (80, 82), "P": (83, 83), "Q": (84, 85), "R": (86, 90),
    "S": (91, 97), "T": (98, 98),
}  # fmt: skip
_SECTION_OF_DIVISION = {d: letter for letter, (lo, hi) in _SECTIONS.items() for d in range(lo, hi + 1)}
# GB/T 4754-2017 section names (门类), as registers write the industry of a target.
SECTION_NAMES = {
    "农、林、牧、渔业": "A", "采矿业": "B", "制造业": "C", "电力、热力、燃气及水生产和供应业": "D",
    "建筑业": "E", "批发和零售业": "F", "交通运输、仓储和邮政业": "G", "住宿和餐饮业": "H",
    "信息传输、软件和信息技术服务业": "I", "金融业": "J", "房地产业": "K", "租赁和商务服务业": "L",
    "科学研究和技术服务业": "M", "水利、环境和公共设施管理业": "N", "居民服务、修理和其他服务业": "O",
    "教育": "P", "卫生和社会工作": "Q", "文化、体育和娱乐业": "R", "公共管理、社会保障和社会组织": "S",
    "国际组织": "T",
}  # fmt: skip

CODE_MAX = 64
TARGET_NAME_MAX = 500
ADDRESS_MAX = 500
CERT_NO_MAX = 32
TAG_MAX = 64
ITEM_TEXT_MAX = 4000
LIST_SEPARATORS = (";", "；")

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_BUT_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_INDUSTRY = re.compile(r"([A-T])?([0-9]{2,4})?", re.ASCII)
_WHITESPACE = re.compile(r"\s")


def _describe_char(ch: str) -> Invalid:
    breaks = {"\n", "\r", "\u2028", "\u2029"}
    if ch == "\t":
        return Invalid("contains a tab")
    if ch in breaks:
        return Invalid("contains a line break")
    return Invalid("contains the control character U+{point}", point=f"{ord(ch):04X}")


# ---------------------------------------------------------------------------------------------
# Checker factories.


def text_checker(*, required: bool, max_len: int, multiline: bool = False) -> Checker:
    """Free text: stripped; no control characters (line breaks allowed, and kept, when `multiline`)."""
    control = _CONTROL_BUT_BREAKS if multiline else _CONTROL

    def slow(value: str) -> object:
        if not value:
            return Invalid("is required") if required else ""
        if len(value) > max_len:
            return Invalid("is {length} characters long, at most {max} allowed", length=len(value), max=max_len)
        bad = control.search(value)
        if bad is not None:
            return _describe_char(bad.group())
        return value.replace("\r\n", "\n") if multiline else value

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
            return Invalid("is {length} characters long, a {what} has at most {max}", length=len(value), what=what, max=max_len)
        bad = _CONTROL.search(value)
        if bad is not None:
            return _describe_char(bad.group())
        return value

    return check


def looks_like_excel_number(raw: str) -> bool:
    """A credit code that went through a number: a number cell, or E-notation text in a CSV."""
    return raw.__class__ is NumberText or _E_NOTATION.fullmatch(raw.strip()) is not None


def check_credit_code(raw: str) -> object:
    """A unified social credit code, upper-cased; the reason names the expected check digit.
    A code that Excel stored as a number is refused even when its check digit happens to pass."""
    if looks_like_excel_number(raw):
        return Invalid(EXCEL_NUMBER)
    value = raw.strip().upper()
    if _credit_code_ok(value):
        return value
    template, params = credit_code_reason(value) or ("is not a credit code", {})
    return Invalid(template, **params)


def check_registration_number(raw: str) -> object:
    """A 15-digit registration number (注册号); read from a number cell it is exact (15 digits fit a float)."""
    value = raw.strip()
    reason = registration_number_reason(value)
    return value if reason is None else Invalid(reason[0], **reason[1])


def check_cert_no(raw: str) -> object:
    value = raw.strip()
    if not value:
        return Invalid("is required")
    if raw.__class__ is NumberText and len(value) > 15:  # past a float's 15 significant digits
        return Invalid(EXCEL_NUMBER)
    if _WHITESPACE.search(value):
        return Invalid("must not contain spaces")
    if len(value) > CERT_NO_MAX:
        return Invalid("is {length} characters long, at most {max} allowed", length=len(value), max=CERT_NO_MAX)
    bad = _CONTROL.search(value)
    if bad is not None:
        return _describe_char(bad.group())
    return value


def enum_checker(
    choices: dict[str, tuple[str, ...]], *, required: bool, default: str | None = None, rules: Sequence[tuple[str, Sequence[str]]] = ()
) -> Checker:
    """One of `choices` (English codes case-insensitively, or a listed Chinese spelling); then the
    first of `rules` (code, words) with a word in the text."""
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
        for code, words in rules:
            if any(word in value for word in words):
                return code
        return Invalid("must be one of {choices}", choices=listing)

    return check


def check_risk(raw: str) -> object:
    """A credit-risk class A-D; empty (or U, 未分类) is the unclassified class U."""
    value = raw.strip().upper()
    if value.endswith("类"):
        value = value[:-1].strip()
    if value in RISK_CLASSES:
        return value
    if not value or value in (UNCLASSIFIED, "未分"):  # 未分类 without its 类
        return UNCLASSIFIED
    return Invalid("must be a credit-risk class A, B, C or D")


def region_checker(*, required: bool) -> Checker:
    """A GB/T 2260 region code (six ASCII digits, not starting with 00, as jointcheck.core.regions),
    or a region's name ('天河区', '广州市天河区') when it names one region."""

    def check(raw: str) -> object:
        value = raw.strip()
        if len(value) == 6 and value.isascii() and value.isdigit() and not value.startswith("00"):
            return value
        if not value:
            return Invalid("is required") if required else ""
        return region_by_name(value)

    return check


def region_by_name(value: str, *, whole: bool = True) -> object:
    from jointcheck.core.directory_io.region_names import region_names  # the table: read on first use

    table = region_names()
    found = table.resolve(value, whole=whole)
    if found.code is not None:
        return found.code
    if found.candidates:
        names = ", ".join(f"{code} {table.name_of(code)}" for code in found.candidates[:5])
        return Invalid("could be any of {regions}; give the 6-digit code", regions=names)
    if not whole:
        return Invalid("names no region we know (GB/T 2260); give the region with --set or a region column")
    return Invalid("must be a 6-digit region code (GB/T 2260), e.g. 440106")


def check_industry(raw: str) -> object:
    """A GB/T 4754-2017 code: section letter, optionally with its 2-4 digit division/group/class
    ("C", "C13", "C131", "C1311"); digits alone get their section letter ("5123" -> "F5123");
    a section's name (制造业) gives its letter."""
    value = raw.strip().upper()
    if not value:
        return ""
    section_of_name = SECTION_NAMES.get(value)
    if section_of_name is not None:
        return section_of_name
    match = _INDUSTRY.fullmatch(value)
    if match is None or match.group() == "":
        return Invalid("must be a GB/T 4754 industry code: a letter A-T, optionally followed by 2-4 digits, e.g. C1311")
    letter, digits = match.groups()
    if digits is None:
        return value
    section = _SECTION_OF_DIVISION.get(int(digits[:2]))
    if section is None:
        return Invalid("division {division} does not exist in GB/T 4754", division=digits[:2])
    if letter is None:
        return section + digits
    if letter != section:
        return Invalid(
            "division {division} belongs to section {section}, not {letter}", division=digits[:2], section=section, letter=letter
        )
    return value


def list_checker(
    item: Checker, *, required: bool, separators: Sequence[str] = LIST_SEPARATORS, what: str = "entries", default: str = ""
) -> Checker:
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
            return Invalid("{entries}", entries="; ".join(bad))
        if not good and required:
            return Invalid("is required (one or more {what}, separated by ;)", what=what)
        return ";".join(sorted(good)) or default

    return check


def department_checker(known: Iterable[str] | Mapping[str, str]) -> Checker:
    """A known department: its code (exactly, or differing only in case when that is unambiguous),
    or, when `known` maps spellings to codes, its registered name or an alias."""
    spellings = dict(known) if isinstance(known, Mapping) else {code: code for code in known}
    folded: dict[str, str | None] = {}
    for spelling, code in spellings.items():
        key = spelling.lower()
        folded[key] = None if key in folded and folded[key] != code else code

    def check(raw: str) -> object:
        value = raw.strip()
        found = spellings.get(value)
        if found is not None:
            return found
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
        return Invalid("is {number}‰, must be from 0 to 1000", number=number)
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
    aliases: tuple[str, ...] = ()  # other headers real registers give it (TYXYDM, 企业名称, ...)
    stored: bool = True  # False: read to make another field (注册号 makes the code), not a record field

    @property
    def label(self) -> str:
        """How a report names the column: '统一社会信用代码 (code)'."""
        return f"{self.zh} ({self.key})"


@dataclass(frozen=True)
class Schema:
    kind: str  # 'targets' | 'inspectors' | 'items' | 'joint_items'
    columns: tuple[Column, ...]
    unique_key: str  # the column whose value must be unique in a file
    _checkers: Callable[[Mapping[str, str]], dict[str, Checker]]

    @property
    def fields(self) -> tuple[str, ...]:
        """The record's fields, in order."""
        return tuple(column.key for column in self.columns if column.stored)

    @property
    def read_fields(self) -> tuple[str, ...]:
        """Every column read from a row: the fields, then the ones read only to make a field."""
        return self.fields + tuple(column.key for column in self.columns if not column.stored)

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
        return [column.key if language == "en" else column.zh for column in self.columns if column.stored]

    def checkers(self, known_departments: Iterable[str] | Mapping[str, str]) -> dict[str, Checker]:
        """One checker per column; the department columns check against `known_departments`
        (codes, or a mapping of every spelling of a department, code, name and aliases, to its code)."""
        known = dict(known_departments) if isinstance(known_departments, Mapping) else {c: c for c in known_departments}
        return self._checkers(known)

    def present(self, keys: Sequence[str | None]) -> tuple[str, ...]:
        """The fields a matched header names, in field order: an upsert leaves the others alone."""
        return tuple(key for key in self.fields if key in keys)

    def match_header(self, header: Sequence[str], mapping: ColumnMapping | None = None) -> list[str | None]:
        """The column key of each header cell (None for an empty or ignored cell), or HeaderError
        listing every unknown, missing and duplicated column at once. English names match
        case-insensitively, Chinese exactly, both after trimming whitespace and BOMs; the aliases
        real registers use match too, and '统一社会信用代码 (code)' also works. `mapping` adds the
        operator's own (--map) and may ignore what is left unknown (--ignore-unknown)."""
        mapping = mapping or ColumnMapping()
        lookup = self._lookup()
        for name, key in mapping.names.items():
            lookup[name] = key
            lookup[name.lower()] = key
        keys: list[str | None] = []
        unknown: list[str] = []
        seen: dict[str, str] = {}
        duplicated: list[str] = []
        mapping.ignored.clear()
        for cell in header:
            name = " ".join((cell or "").replace("\ufeff", "").split())
            if not name:
                keys.append(None)
                continue
            key = _match_name(name, lookup)
            if key == IGNORE or (key is None and (name in PERSONAL_COLUMNS or name in BAD_ROWS_COLUMNS or name in SEQUENCE_COLUMNS)):
                mapping.ignored.append(name)
                keys.append(None)
                continue
            if key is None:
                if mapping.ignore_unknown:
                    mapping.ignored.append(name)
                else:
                    unknown.append(name)
                keys.append(None)
                continue
            if key in seen:
                label = self.label(key)
                if label not in duplicated:
                    duplicated.append(label)
            seen[key] = name
            keys.append(key)
        seen_or_set = set(seen) | set(mapping.given)
        missing = [column.label for column in self.columns if column.required and column.key not in seen_or_set]
        if self.kind == "targets" and "code" not in seen_or_set and "reg_no" not in seen_or_set:
            missing.append(self.label("code"))
        if unknown or missing or duplicated:
            names = list(lookup)
            hints = {}
            for name in unknown:
                close = difflib.get_close_matches(name.lower(), names, n=1, cutoff=0.6)
                if close and lookup[close[0]] != IGNORE:
                    hints[name] = self.label(lookup[close[0]])
            raise HeaderError(self.kind, unknown=unknown, missing=missing, duplicated=duplicated, hints=hints)
        return keys

    def _lookup(self) -> dict[str, str]:
        table = {}
        for column in self.columns:
            table[column.key.lower()] = column.key
            table[column.zh] = column.key
            for alias in column.aliases:
                table[alias] = column.key
                table[alias.lower()] = column.key
        return table


IGNORE = "-"  # --map 'COLUMN=-': leave this column out
# Personal data of the registers' people that the directory never needs: always left out, never stored.
PERSONAL_COLUMNS = frozenset(
    {
        "法定代表人", "法定代表人姓名", "法人代表", "负责人", "经营者", "投资人", "联系人", "联系电话", "电话",
        "手机", "手机号码", "证件编号", "证件号码", "证件类型", "身份证号", "身份证号码", "法定代表人证件号码",
        "电子邮箱", "邮箱",
    }
)  # fmt: skip
# Columns that only number the rows.
SEQUENCE_COLUMNS = frozenset({"序号", "No.", "No", "#"})
# The columns `report.write_bad_rows_csv` adds to a bad-rows file: ignored when it comes back fixed.
BAD_ROWS_COLUMNS = frozenset({"行号 (line)", "错误原因 (errors)", "错误原因 (reason)"})


@dataclass
class ColumnMapping:
    """What the operator says about a file's columns: `names` header text -> column key (or
    IGNORE), from --map and --map-file; `given` one value for a column the file lacks (--set);
    `ignore_unknown`. `ignored` is filled by `Schema.match_header` with what it left out."""

    names: dict[str, str] = field(default_factory=dict)
    given: dict[str, str] = field(default_factory=dict)
    ignore_unknown: bool = False
    ignored: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"names": self.names, "given": self.given, "ignore_unknown": self.ignore_unknown}

    @classmethod
    def from_json(cls, data: dict | None) -> ColumnMapping:
        data = data or {}
        return cls(dict(data.get("names", {})), dict(data.get("given", {})), bool(data.get("ignore_unknown")))

    @property
    def is_plain(self) -> bool:
        return not (self.names or self.given)


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


def _target_checkers(known: Mapping[str, str]) -> dict[str, Checker]:
    return {
        "code": _generic_code,  # validation applies check_credit_code to registered kinds
        "name": text_checker(required=True, max_len=TARGET_NAME_MAX),
        "kind": enum_checker(TARGET_KINDS, required=True, rules=KIND_RULES),
        "region": region_checker(required=True),
        "industry": check_industry,
        "risk": check_risk,
        "departments": list_checker(department_checker(known), required=False),
        "tags": list_checker(code_checker(max_len=TAG_MAX, what="tag"), required=False),
        "status": enum_checker(STATUSES, required=False, default="active"),
        "address": text_checker(required=False, max_len=ADDRESS_MAX),
        "reg_no": check_registration_number,
    }


def _inspector_checkers(known: Mapping[str, str]) -> dict[str, Checker]:
    return {
        "cert_no": check_cert_no,
        "name": text_checker(required=True, max_len=200),
        "department": department_checker(known),
        "kind": enum_checker(INSPECTOR_KINDS, required=False, default="enforcement"),
        "skills": list_checker(code_checker(max_len=TAG_MAX, what="skill"), required=False, separators=(";", "；", "、", ",", "，")),
        "region": region_checker(required=False),
        "status": enum_checker(EXCLUDED, required=False, default="active"),
        "conflicts": list_checker(check_conflict_code, required=False),
    }


def _item_checkers(known: Mapping[str, str]) -> dict[str, Checker]:
    return {
        "code": code_checker(required=False),  # generated from department and name when empty
        "department": department_checker(known),
        "group": text_checker(required=False, max_len=200),
        "name": text_checker(required=True, max_len=ITEM_TEXT_MAX, multiline=True),
        "category": enum_checker(CATEGORIES, required=False, default="general"),
        "basis": text_checker(required=False, max_len=ITEM_TEXT_MAX, multiline=True),
        "subject": text_checker(required=False, max_len=ITEM_TEXT_MAX, multiline=True),
        "content": text_checker(required=False, max_len=ITEM_TEXT_MAX, multiline=True),
        "method": list_checker(
            enum_checker(METHODS, required=True), required=True, separators=(";", "；", "、", ",", "，", "\n"), what="methods"
        ),
        "object_kind": text_checker(required=False, max_len=500, multiline=True),
        "ratio_cap": check_ratio_cap,  # optional; validation refuses it for key items
    }


def _joint_item_checkers(known: Mapping[str, str]) -> dict[str, Checker]:
    departments = list_checker(text_checker(required=True, max_len=200), required=False, separators=(";", "；", "、", ",", "，", "\n"))
    return {
        "code": code_checker(required=False),  # generated from the name when empty
        "area": text_checker(required=False, max_len=200),
        "name": text_checker(required=True, max_len=ITEM_TEXT_MAX, multiline=True),
        "object_kind": text_checker(required=False, max_len=500, multiline=True),
        "initiator": departments,
        "partners": departments,
    }


def _col(key: str, zh: str, required: bool, low: bool, description: str, *aliases: str, stored: bool = True) -> Column:
    return Column(key, zh, required, low, description, aliases, stored)


TARGETS = Schema(
    "targets",
    (
        _col("code", "统一社会信用代码", False, False, "credit code (registered kinds) or own code (product, project, behaviour)",
             "TYXYDM", "社会信用代码", "信用代码", "统一代码", "USCC", "credit_code"),
        _col("name", "名称", True, False, "name", "企业名称", "主体名称", "市场主体名称", "单位名称", "QYMC", "ZTMC"),
        _col("kind", "类型", True, True, "enterprise, individual, cooperative, product, project or behaviour; or the company type",
             "企业类型名称", "企业类型", "主体类型", "市场主体类型", "类型名称", "QYLXMC", "QYLX"),
        _col("region", "行政区划", True, True, "GB/T 2260 region code or name", "行政区划代码", "所属区域", "区域", "辖区", "所属辖区"),
        _col("industry", "行业", False, True, "GB/T 4754 industry code or section name", "行业代码", "行业门类", "国民经济行业", "所属行业", "HYDM"),
        _col("risk", "信用风险分类", False, True, "credit-risk class A-D; empty = unclassified (U)", "风险分类", "风险等级", "信用风险等级", "信用风险分类结果"),
        _col("departments", "监管部门", False, True, "supervising departments (code, name or alias), ;-separated", "编制单位名称", "部门", "监管单位"),
        _col("tags", "标签", False, True, "tags, ;-separated"),
        _col("status", "状态", False, True, "active (default) or deregistered", "ZT", "登记状态", "经营状态", "企业状态"),
        _col("address", "地址", False, False, "address", "经营地址", "住所", "经营场所", "住所(经营场所)", "住所（经营场所）", "JYDZ", "ZS"),
        _col("reg_no", "注册号", False, False, "15-digit registration number: the key when there is no credit code",
             "ZCH", "注册号码", "工商注册号", stored=False),
    ),
    "code",
    _target_checkers,
)  # fmt: skip

INSPECTORS = Schema(
    "inspectors",
    (
        _col("cert_no", "执法证号", True, False, "law-enforcement certificate number", "执法编号", "执法证件号", "执法证编号", "证号"),
        _col("name", "姓名", True, False, "name", "执法姓名", "人员姓名"),
        _col("department", "部门", True, True, "department (code, name or alias)", "编制单位名称", "所属部门", "单位"),
        _col("kind", "人员类别", False, True, "enforcement (default) or expert"),
        _col("skills", "业务专长", False, True, "skills, ;-separated", "执法类别", "专长"),
        _col("region", "行政区划", False, True, "GB/T 2260 region code or name", "执法区域", "区域"),
        _col("status", "黑名单", False, True, "黑名单 (never drawn) or 白名单/empty", "黑白名单", "是否黑名单", "excluded"),
        _col("conflicts", "回避对象", False, False, "target codes this inspector must not inspect, ;-separated"),
    ),
    "cert_no",
    _inspector_checkers,
)  # fmt: skip

ITEMS = Schema(
    "items",
    (
        _col("code", "事项编码", False, False, "item code; generated from department and name when empty", "编码", "事项代码"),
        _col("department", "部门", True, True, "department (code, name or alias)", "编制单位名称", "实施部门", "抽查部门"),
        _col("group", "抽查类别", False, True, "the group of the item in its list"),
        _col("name", "事项名称", True, False, "item name", "抽查事项", "检查事项", "抽查事项名称"),
        _col("category", "事项类别", False, True, "general (一般, default) or key (重点)"),
        _col("basis", "抽查依据", False, False, "legal basis", "检查依据"),
        _col("subject", "抽查主体", False, True, "inspecting body", "检查主体"),
        _col("content", "抽查内容", False, False, "what is checked", "检查内容"),
        _col("method", "抽查方式", True, True, "onsite, documentary, online, sampling, expert (现场检查, 书面检查, 网络检查, 抽样检测, 专业机构核查)", "检查方式"),
        _col("object_kind", "检查对象", False, True, "what is inspected, free text", "抽查对象"),
        _col("ratio_cap", "比例上限", False, True, "per mille cap, optional; empty for key items", "抽查比例上限"),
    ),
    "code",
    _item_checkers,
)  # fmt: skip

JOINT_ITEMS = Schema(
    "joint_items",
    (
        _col("code", "事项编码", False, False, "joint item code; generated from the name when empty", "编码"),
        _col("area", "抽查领域", False, True, "the field of the joint item", "领域"),
        _col("name", "抽查事项", True, False, "joint item name", "事项名称", "联合抽查事项"),
        _col("object_kind", "检查对象", False, True, "what is inspected, free text", "抽查对象"),
        _col("initiator", "发起部门", False, True, "departments that start it, ;-separated"),
        _col("partners", "配合部门", False, True, "departments that join it, ;-separated"),
    ),
    "code",
    _joint_item_checkers,
)  # fmt: skip

SCHEMAS = {schema.kind: schema for schema in (TARGETS, INSPECTORS, ITEMS, JOINT_ITEMS)}
KINDS = tuple(SCHEMAS)


def get_schema(kind: str) -> Schema:
    try:
        return SCHEMAS[kind.replace("-", "_")]
    except KeyError:
        raise ValueError(f"unknown directory kind {kind!r}; expected one of {', '.join(KINDS)}") from None
