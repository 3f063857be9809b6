"""The unified social credit code (统一社会信用代码) of GB 32100-2015 and its check digit.

Layout of the 18 characters (1-based positions):

    1      registration authority (登记管理部门代码): 1-9, A, N or Y
    2      entity type within that authority (机构类别代码): 1-9
    3-8    region code of the registering authority (GB/T 2260, digits)
    9-17   organisation code (主体标识码, GB 11714)
    18     check digit

Every character comes from the 31-character alphabet ``0-9 A-H J-N P-R T U W-Y`` (no I, O, Z, S
or V). The check digit is ``31 - (sum of index(c_i) * w_i mod 31)``, with 31 written as ``0``,
mapped back through the alphabet, where ``w_i = 3**(i-1) mod 31`` for i = 1..17 (the standard's
table 1, 3, 9, 27, 19, 26, ...). Because 31 is prime and every weight is non-zero mod 31, changing
any one character, or swapping two different adjacent characters among the first 17, always
changes the check digit: a typo is always caught.

The functions judge a code after :func:`normalize_credit_code` (surrounding whitespace removed,
letters upper-cased), so ``9135...y43`` is as valid as ``9135...Y43``.
"""

from __future__ import annotations

import itertools
import re

__all__ = [
    "ALPHABET",
    "WEIGHTS",
    "check_digit",
    "credit_code_error",
    "credit_code_reason",
    "registration_number_check_digit",
    "registration_number_reason",
    "is_valid_credit_code",
    "make_credit_code",
    "normalize_credit_code",
]

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
AUTHORITIES = "123456789ANY"
ENTITY_TYPES = "123456789"

_INDEX = {ch: i for i, ch in enumerate(ALPHABET)}
_ALPHABET_CLASS = "0-9A-HJ-NP-RTUW-Y"
_PREFIX = re.compile(rf"[{AUTHORITIES}][{ENTITY_TYPES}][0-9]{{6}}[{_ALPHABET_CLASS}]{{9}}", re.ASCII)

# Fast path (an import checks a million codes), in bytes: since w_i == 34**(i-1) (mod 31), the
# weighted sum mod 31 equals int(reversed prefix, 34) mod 31 once each character is renamed to the
# base-34 digit of its alphabet index (J, the 19th character, is digit 18, and so on); any other
# byte becomes 'Z', which int() refuses. The first 8 characters are checked as a pattern of classes
# (authority, type, six digits) looked up in the set of the 128 valid patterns. `check_digit` below
# is the plain textbook computation; the tests check that both agree.
_TO_BASE34 = bytearray(b"Z" * 256)
for _i, _ch in enumerate(ALPHABET):
    _TO_BASE34[ord(_ch)] = ord("0123456789ABCDEFGHIJKLMNOPQRSTU"[_i])
_TO_BASE34 = bytes(_TO_BASE34)
_CLASS = bytearray(b"x" * 256)
for _ch in "123456789":
    _CLASS[ord(_ch)] = ord("d")  # authority, type or region digit
_CLASS[ord("0")] = ord("0")  # region digit only
for _ch in "ANY":
    _CLASS[ord(_ch)] = ord("a")  # authority only
_CLASS = bytes(_CLASS)
_VALID_HEADS = frozenset(bytes(p) for p in itertools.product(b"da", b"d", *[b"d0"] * 6))
_ALPHABET_BYTES = ALPHABET.encode()


def normalize_credit_code(code: str) -> str:
    return code.strip().upper()


def check_digit(prefix17: str) -> str:
    """The check character for the first 17 characters (which must be alphabet characters)."""
    total = 0
    for ch, weight in zip(prefix17, WEIGHTS, strict=True):
        total += _INDEX[ch] * weight
    return ALPHABET[(31 - total % 31) % 31]


def _fast_check_digit(prefix17: str) -> str:
    """check_digit by the base-34 route, for a prefix known to be 17 alphabet characters."""
    return ALPHABET[-int(prefix17.encode()[::-1].translate(_TO_BASE34), 34) % 31]


def _fast_ok(code: str, _heads=_VALID_HEADS, _cls=_CLASS, _table=_TO_BASE34, _alphabet=_ALPHABET_BYTES) -> bool:
    """True iff the code, exactly as given (already normalised), is valid; never raises."""
    data = code.encode("utf-8", "surrogatepass")
    if len(data) != 18 or data[:8].translate(_cls) not in _heads:
        return False
    try:
        total = int(data[16::-1].translate(_table), 34)
    except ValueError:  # a character outside the alphabet
        return False
    return _alphabet[-total % 31] == data[17]


def is_valid_credit_code(code: str) -> bool:
    return _fast_ok(normalize_credit_code(code))


def credit_code_reason(code: str) -> tuple[str, dict] | None:
    """None for a valid code, else what is wrong as (English sentence with {fields}, fields): the
    sentence is the msgid of its translation."""
    code = normalize_credit_code(code)
    if _fast_ok(code):
        return None
    if not code:
        return "is empty", {}
    if len(code) != 18:
        return "has {length} characters, a credit code has 18", {"length": len(code)}
    for pos, ch in enumerate(code, 1):
        if ch not in _INDEX:
            if ch in "IOZSV":
                return "character {position} is '{char}': credit codes never use I, O, Z, S or V", {"position": pos, "char": ch}
            return "character {position} '{char}' is not allowed in a credit code", {"position": pos, "char": ch}
    if code[0] not in AUTHORITIES:
        return "character 1 '{char}' is not a registration authority code (1-9, A, N, Y)", {"char": code[0]}
    if code[1] not in ENTITY_TYPES:
        return "character 2 '{char}' is not an entity type code (1-9)", {"char": code[1]}
    if not code[2:8].isdigit():
        return "characters 3-8 (region code) must be digits", {}
    return "check digit should be {digit}", {"digit": check_digit(code[:17])}


def credit_code_error(code: str) -> str | None:
    """None for a valid code, else one sentence saying what is wrong (for an error report)."""
    reason = credit_code_reason(code)
    return None if reason is None else reason[0].format(**reason[1])


def registration_number_check_digit(prefix14: str) -> str:
    """ISO 7064 MOD 11,10 over the first 14 digits of a 15-digit registration number (注册号)."""
    p = 10
    for ch in prefix14:
        s = (p + int(ch)) % 10 or 10
        p = (s * 2) % 11
    return str((11 - p) % 10)


def registration_number_reason(value: str) -> tuple[str, dict] | None:
    """None for a valid 15-digit registration number, else (sentence, fields) as credit_code_reason."""
    if not value:
        return "is empty", {}
    if len(value) != 15 or not (value.isascii() and value.isdigit()):
        return "a registration number (注册号) has 15 digits, this has {length} characters", {"length": len(value)}
    expected = registration_number_check_digit(value[:14])
    if value[14] != expected:
        return "check digit of the registration number should be {digit}", {"digit": expected}
    return None


def make_credit_code(prefix17: str) -> str:
    """Append the check digit to a 17-character prefix (authority, type, region, organisation)."""
    prefix17 = normalize_credit_code(prefix17)
    if len(prefix17) != 17:
        raise ValueError(f"a credit code prefix has 17 characters, not {len(prefix17)}")
    if _PREFIX.fullmatch(prefix17) is None:
        raise ValueError(f"not a credit code prefix: {prefix17!r}")
    return prefix17 + check_digit(prefix17)
