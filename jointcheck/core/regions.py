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


# A stand-in for the GB/T 2260 table: the provinces and the regions the demo and the tests use.
# `region_name` is the one place that reads it, so the full table (the `regions` table the
# directory import fills) can replace it without touching a caller.
_NAMES = {
    "110000": "北京市", "120000": "天津市", "130000": "河北省", "140000": "山西省", "150000": "内蒙古自治区",
    "210000": "辽宁省", "220000": "吉林省", "230000": "黑龙江省", "310000": "上海市", "320000": "江苏省",
    "330000": "浙江省", "340000": "安徽省", "350000": "福建省", "360000": "江西省", "370000": "山东省",
    "410000": "河南省", "420000": "湖北省", "430000": "湖南省", "440000": "广东省", "450000": "广西壮族自治区",
    "460000": "海南省", "500000": "重庆市", "510000": "四川省", "520000": "贵州省", "530000": "云南省",
    "540000": "西藏自治区", "610000": "陕西省", "620000": "甘肃省", "630000": "青海省", "640000": "宁夏回族自治区",
    "650000": "新疆维吾尔自治区", "710000": "台湾省", "810000": "香港特别行政区", "820000": "澳门特别行政区",
    "440100": "广州市", "440300": "深圳市", "440400": "珠海市", "440600": "佛山市", "441900": "东莞市", "442000": "中山市",
    "440103": "荔湾区", "440104": "越秀区", "440105": "海珠区", "440106": "天河区", "440111": "白云区",
    "440112": "黄埔区", "440113": "番禺区", "440114": "花都区", "440115": "南沙区", "440117": "从化区", "440118": "增城区",
    "310101": "黄浦区", "310104": "徐汇区",
}  # fmt: skip


def region_name(code: str) -> str | None:
    """The region's name where known (海珠区 for 440105), else None."""
    return _NAMES.get(code)


def region_label(code: str) -> str:
    """How a region is shown to people: its name with its code, or the code alone when unnamed."""
    name = region_name(code)
    return f"{name} ({code})" if name else code


def region_code_for(text: str) -> str | None:
    """The code of a region typed as its code or its name (广州市, or 广州), where known."""
    text = text.strip()
    if is_region_code(text):
        return text
    for code, name in _NAMES.items():
        if text in (name, name[:-1] if name[-1] in "省市区县" else name):
            return code
    return None
