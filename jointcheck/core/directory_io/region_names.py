"""GB/T 2260 region names: a region cell written as a name, and a region read out of an address.

The table (jointcheck/data/gb2260.tsv, `code<TAB>name`) holds every province, prefecture-level city
and county-level division, 3,511 entries as of the 2020 edition. It was taken from the adcodes
file the cpca package ships (MIT licence, Copyright (c) 2018 QinYuan Du); only the codes and names
were kept. Divisions created after 2020 are missing: their cells must then give the code.

A name resolves when it names one division ("天河区"), or when the names it is made of lead to
one ("广州市天河区", "广东省广州市天河区", "广州天河区"). An address resolves the same way, by the
names found in it: the most specific division that the other names found agree with.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RegionNames", "region_names"]

TABLE = Path(__file__).resolve().parents[2] / "data" / "gb2260.tsv"  # licence beside it: gb2260.LICENSE
# Placeholders of the table, not names anyone writes for a place.
_NOT_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")


def _level(code: str) -> int:
    """0 province, 1 prefecture, 2 county."""
    if code.endswith("0000"):
        return 0
    return 1 if code.endswith("00") else 2


def _parent(code: str, level: int) -> str:
    return code[:2] + "0000" if level == 0 else code[:4] + "00"


@dataclass(frozen=True)
class Found:
    code: str | None
    candidates: tuple[str, ...] = ()  # when ambiguous: the divisions it could be


class RegionNames:
    def __init__(self, entries: list[tuple[str, str]]):
        self.names: dict[str, str] = dict(entries)
        self._by_name: dict[str, list[str]] = {}
        for code, name in entries:
            if name in _NOT_NAMES:
                continue
            self._by_name.setdefault(name, []).append(code)
            if _level(code) < 2:  # 广东省 -> 广东, 广州市 -> 广州
                for suffix in _SUFFIXES:
                    if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                        self._by_name.setdefault(name[: -len(suffix)], []).append(code)
                        break
        self._lengths = sorted({len(name) for name in self._by_name}, reverse=True)

    def name_of(self, code: str) -> str:
        """'广东省广州市天河区' for 440106 (as far as the table knows the code's parents)."""
        parts = []
        for level in (0, 1):
            parent = _parent(code, level)
            if parent != code and parent in self.names and self.names[parent] not in _NOT_NAMES:
                parts.append(self.names[parent])
        parts.append(self.names.get(code, code))
        return "".join(parts)

    def _matches(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, name) of every table name in the text, longest first at each position,
        without overlaps (a name inside a longer one found earlier is not counted)."""
        found = []
        i, n = 0, len(text)
        while i < n:
            for length in self._lengths:
                if i + length <= n and text[i : i + length] in self._by_name:
                    found.append((i, i + length, text[i : i + length]))
                    i += length
                    break
            else:
                i += 1
        return found

    def resolve(self, text: str, *, whole: bool) -> Found:
        """The division `text` names (`whole`: it must be made of names only, as a region cell is),
        or the candidates when it could be several, or none."""
        text = text.strip().replace(" ", "")
        if not text:
            return Found(None)
        exact = self._by_name.get(text)
        if exact is not None and len(exact) == 1:
            return Found(exact[0])
        matches = self._matches(text)
        if whole and sum(end - start for start, end, _ in matches) != len(text):
            return Found(None)
        codes = {code for _, _, name in matches for code in self._by_name[name]}
        if not codes:
            return Found(None)
        # The most specific divisions whose every named parent is among what was found, scored by
        # how many of the names found they agree with.
        best: list[str] = []
        best_score = -1
        for code in codes:
            level = _level(code)
            ancestors = {_parent(code, lv) for lv in range(level)}
            score = level * 10 + sum(1 for a in ancestors if a in codes)
            if score > best_score:
                best, best_score = [code], score
            elif score == best_score:
                best.append(code)
        if len(best) == 1:
            code = best[0]
            # A bare county name shared by several places is resolved only by a parent written beside it.
            if _level(code) == 2 and best_score == 20 and not self._unique_county(code):
                return Found(None, (code,))
            return Found(code)
        return Found(None, tuple(sorted(best)))

    def _unique_county(self, code: str) -> bool:
        name = self.names[code]
        return len(self._by_name.get(name, ())) == 1 and len(name) >= 3


@functools.cache
def region_names() -> RegionNames:
    entries = []
    with open(TABLE, encoding="utf-8") as fh:
        for line in fh:
            code, name = line.rstrip("\n").split("\t")
            entries.append((code, name))
    return RegionNames(entries)
