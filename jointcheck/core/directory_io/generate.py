"""Deterministic synthetic target directories, valid by construction (for tests and the bench).

    write_csv("targets.csv", "targets", iter_synthetic_targets(1_000_000, seed=7, departments=["SAMR", "TAX"]))

The records are in normalised form (what validation yields for them), so a generated file
imports to exactly the generated records. Codes are unique: the organisation part of each credit
code is a bijection of the row number, so any n up to 31**8 gives distinct codes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

from jointcheck.core.directory_io.credit_code import ALPHABET, _fast_check_digit

__all__ = ["REGIONS", "iter_synthetic_targets", "synthetic_credit_code"]

# Real GB/T 2260 county-level codes (Guangzhou, Fuzhou, Beijing, Shanghai, Chengdu, Hangzhou).
REGIONS = (
    "440103", "440104", "440105", "440106", "440111", "440112", "440113", "440114",
    "350102", "350103", "350104", "350105", "350111", "350121",
    "110101", "110102", "110105", "110106", "110108",
    "310101", "310104", "310105", "310106", "310115",
    "510104", "510105", "510106", "510107", "510108",
    "330102", "330105", "330106", "330108", "330110",
)  # fmt: skip
INDUSTRIES = (
    "",
    "A0111",
    "C1311",
    "C1810",
    "C2710",
    "C3011",
    "E4710",
    "F5123",
    "F5212",
    "G5411",
    "H6110",
    "H6210",
    "I6510",
    "L7212",
    "M7320",
    "O8010",
    "R8810",
    "C",
    "F",
)
KIND_WEIGHTS = (("enterprise", 70), ("individual", 20), ("product", 5), ("project", 3), ("behaviour", 2))
RISK_WEIGHTS = (("A", 30), ("B", 50), ("C", 15), ("D", 5))
TAGS = ("食品", "特种设备", "药品", "网络交易", "校园周边", "cold-chain", "export")

_SURNAME_PLACES = ("华南", "闽江", "长城", "浦江", "天府", "西湖", "鹏程", "瑞丰", "金穗", "鼎盛", "恒达", "新宇")
_TRADES = ("贸易", "科技", "餐饮", "建材", "物流", "食品", "电子", "服装", "医药", "文化")
_FORMS = ("有限公司", "有限责任公司", "股份有限公司")
_STREETS = ("天河路", "中山路", "人民路", "解放路", "建设路", "五一路", "长安街")

_CODE_PREFIX = {"product": "CP", "project": "XM", "behaviour": "XW"}
_ORG_SPACE = 31**8
_ORG_STEP = 387_420_489  # 3**18: coprime with 31, so i -> i * step mod 31**8 is a bijection


def synthetic_credit_code(index: int, region: str, individual: bool = False) -> str:
    """A valid credit code unique for each index (< 31**8): 91 (enterprise) or 92 (individual)."""
    number = (index * _ORG_STEP + 12_345) % _ORG_SPACE
    org = []
    for _ in range(8):
        number, digit = divmod(number, 31)
        org.append(ALPHABET[digit])
    prefix = ("92" if individual else "91") + region + "".join(org) + ALPHABET[index % 10]
    return prefix + _fast_check_digit(prefix)


def iter_synthetic_targets(n: int, seed: int = 0, departments: Sequence[str] = ("SAMR",)) -> Iterator[dict]:
    """n valid target records, the same for the same (n, seed, departments). Other tests rely on
    the exact records a seed gives: keep the sequence of random draws as it is."""
    if not departments:
        raise ValueError("at least one department code is needed")
    rng = random.Random(seed)
    kinds, kind_weights = zip(*KIND_WEIGHTS, strict=True)
    risks, risk_weights = zip(*RISK_WEIGHTS, strict=True)
    kind_cum = _cumulative(kind_weights)
    risk_cum = _cumulative(risk_weights)
    departments = sorted(set(departments))
    for i in range(n):
        region = rng.choice(REGIONS)
        kind = rng.choices(kinds, cum_weights=kind_cum)[0]
        if kind in ("enterprise", "individual"):
            code = synthetic_credit_code(i, region, individual=kind == "individual")
        else:
            code = f"{_CODE_PREFIX[kind]}-{region}-{i:08d}"
        place, trade = rng.choice(_SURNAME_PLACES), rng.choice(_TRADES)
        if kind == "enterprise":
            name = f"{place}{trade}{rng.choice(_FORMS)}{i}"
        elif kind == "individual":
            name = f"{place}{trade}经营部{i}"
        else:
            name = f"{place}{trade}{'产品' if kind == 'product' else '项目' if kind == 'project' else '经营行为'}{i}"
        count = 1 if rng.random() < 0.7 else min(2, len(departments))
        chosen = sorted(rng.sample(departments, count))
        tags = sorted(rng.sample(TAGS, rng.randint(1, 2))) if rng.random() < 0.2 else []
        yield {
            "code": code,
            "name": name,
            "kind": kind,
            "region": region,
            "industry": rng.choice(INDUSTRIES),
            "risk": rng.choices(risks, cum_weights=risk_cum)[0],
            "departments": ";".join(chosen),
            "tags": ";".join(tags),
            "status": "deregistered" if rng.random() < 0.03 else "active",
            "address": f"{rng.choice(_STREETS)}{rng.randint(1, 999)}号" if rng.random() < 0.8 else "",
        }


def _cumulative(weights: Sequence[int]) -> list[int]:
    total, out = 0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out
