"""Writes the demo's input files: an item list, 2,000 targets and three departments' inspectors."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from jointcheck.core.directory_io.generate import iter_synthetic_targets
from jointcheck.core.directory_io.writers import write_table

DEPARTMENTS = ("SCJG", "SWJ", "HBJ")


def main(folder: str) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    targets = [
        dict(t, region="440106" if i % 3 else "440111")
        for i, t in enumerate(itertools.islice(iter_synthetic_targets(2000, 2026, DEPARTMENTS), 2000))
    ]
    write_table(out / "targets.csv", "targets", targets, language="zh")
    inspectors = [
        {
            "cert_no": f"{d}{k:04d}",
            "name": f"{d}检查员{k}",
            "department": d,
            "kind": "enforcement",
            "skills": "食品" if k % 2 else "",
            "region": "440106",
            "conflicts": targets[k]["code"] if k < 3 else "",
        }
        for d, size in zip(DEPARTMENTS, (12, 6, 4))
        for k in range(size)
    ]
    write_table(out / "inspectors.xlsx", "inspectors", inspectors)
    items = [
        {
            "code": "SCJG-2026-01",
            "department": "SCJG",
            "name": "食品经营许可情况检查",
            "category": "general",
            "basis": "《食品安全法》",
            "subject": "市场监督管理局",
            "content": "许可证、从业人员健康证",
            "method": "onsite",
            "object_kind": "enterprise",
            "ratio_cap": 300,
        },
        {
            "code": "SCJG-2026-K1",
            "department": "SCJG",
            "name": "特种设备安全重点检查",
            "category": "key",
            "basis": "《特种设备安全法》",
            "subject": "市场监督管理局",
            "content": "登记、定期检验",
            "method": "onsite",
            "object_kind": "enterprise",
            "ratio_cap": "",
        },
        {
            "code": "SWJ-2026-01",
            "department": "SWJ",
            "name": "发票使用情况检查",
            "category": "general",
            "basis": "《发票管理办法》",
            "subject": "税务局",
            "content": "发票领用存",
            "method": "documentary",
            "object_kind": "enterprise",
            "ratio_cap": 200,
        },
        {
            "code": "HBJ-2026-01",
            "department": "HBJ",
            "name": "排污许可执行检查",
            "category": "general",
            "basis": "《排污许可管理条例》",
            "subject": "生态环境局",
            "content": "排放口、台账",
            "method": "onsite",
            "object_kind": "enterprise",
            "ratio_cap": 100,
        },
    ]
    write_table(out / "items.csv", "items", items)


if __name__ == "__main__":
    main(sys.argv[1])
