"""Targets without a credit-risk class are the unclassified stratum U, with a ratio of their own; an
inspector on the black list (黑名单) stays in the roster and is never drawn."""

from __future__ import annotations

import json
import zipfile

from tests.integration.test_round_cli import province  # noqa: F401  (the fixture)


def test_unclassified_targets_are_a_stratum_with_their_own_ratio(cli, db_url, province, tmp_path):  # noqa: F811
    unclassified = tmp_path / "unclassified.csv"
    rows = "\n".join(f"U{i:03d},无分类对象{i},product,440106,,,SAMR" for i in range(10))
    unclassified.write_text("code,name,kind,region,industry,risk,departments\n" + rows + "\n", encoding="utf-8")
    assert cli(db_url, "import", "targets", str(unclassified)).code == 0
    roster = tmp_path / "blacklist.csv"
    roster.write_text("执法编号,执法姓名,部门,黑白名单\nTAX-9,黑名单上的人,TAX,黑名单\nTAX-8,白名单上的人,TAX,白名单\n", encoding="utf-8")
    assert cli(db_url, "import", "inspectors", str(roster)).code == 0
    u = province
    propose = ["round", "propose", "--as", u["samr"], "--lead", "SAMR", "--title", "联合抽查", "--region", "440100"]
    propose += ["--items", "SAMR-001", "--invite", "TAX=1", "--team", "1", "--ratio", "A=100"]
    assert "not one of A, B, C, D or U" in cli(db_url, *propose, "--ratio", "X=5").err
    proposed = cli(db_url, *propose, "--ratio", "U=300")
    assert proposed.code == 0, proposed.err
    assert cli(db_url, "round", "confirm", "1", "--as", u["tax"], "--department", "TAX", "--items", "TAX-001").code == 0
    assert cli(db_url, "round", "approve", "1", "--as", u["convener"]).code == 0
    assert cli(db_url, "round", "seed", "1", "0123 4567 8901 2345 6789", "--as", u["convener"]).code == 0
    drawn = cli(db_url, "round", "draw", "1", "--as", u["convener"])
    assert drawn.code == 0 and "drawn: 6 targets" in drawn.out  # A: 30 of 120 -> 3; U: 10 -> 3
    shown = json.loads(cli(db_url, "round", "show", "1", "--as", u["tax"]).out)
    assert shown["ratios"] == {"A": "10%", "B": "0%", "C": "0%", "D": "0%", "U": "30%"}
    bundle = tmp_path / "round-1.zip"
    assert cli(db_url, "round", "archive", "1", str(bundle), "--as", u["samr"]).code == 0
    with zipfile.ZipFile(bundle) as zf:
        pools = next(zf.read(n).decode() for n in zf.namelist() if n.endswith("pools.tsv"))
        population = next(zf.read(n).decode() for n in zf.namelist() if n.endswith("population.tsv"))
    assert "TAX\tTAX-8\n" in pools and "TAX-9" not in pools
    assert "U003\tU\n" in population
