"""GB/T 2260 region codes: six digits, province 2 + city 2 + county 2, zeros meaning 'all'."""

from __future__ import annotations

import re

_CODE = re.compile(r"[0-9]{6}")


def is_region_code(code: str) -> bool:
    return bool(_CODE.fullmatch(code)) and code[:2] != "00"


def region_prefix(code: str) -> str:
    """The prefix every code inside this region starts with: 440000 → '44', 440100 → '4401'."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def region_covers(outer: str, inner: str) -> bool:
    return inner.startswith(region_prefix(outer))
