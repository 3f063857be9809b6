"""The operator CLI drives a whole round as named users; `verify` and `plan import` work offline."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from jointcheck.core.directory_io.writers import write_table
from tests.round_world import DRAW_AT, target_rows

ITEMS = [
    {
        "code": "SAMR-001",
        "department": "SAMR",
        "name": "食品经营检查",
        "category": "general",
        "basis": "《条例》",
        "subject": "本部门",
        "content": "内容",
        "method": "onsite",
        "object_kind": "product",
        "ratio_cap": 400,
    },
    {
        "code": "TAX-001",
        "department": "TAX",
        "name": "发票检查",
        "category": "general",
        "basis": "《条例》",
        "subject": "本部门",
        "content": "内容",
        "method": "documentary",
        "object_kind": "product",
        "ratio_cap": 300,
    },
]


@pytest.fixture
def province(cli, db_url, tmp_path):
    for code in ("SAMR", "TAX", "EPB"):
        assert cli(db_url, "admin", "department", "add", code, code).code == 0
    columns = ("code", "name", "kind", "region", "industry", "risk", "departments", "tags", "status", "address")
    write_table(tmp_path / "targets.csv", "targets", [dict(zip(columns, row)) for row in target_rows(120)])
    inspectors = [
        {"cert_no": f"{d}-{k}", "name": f"检查员{k}", "department": d, "kind": "enforcement", "skills": "", "region": "", "conflicts": ""}
        for d in ("SAMR", "TAX")
        for k in range(4)
    ]
    write_table(tmp_path / "inspectors.xlsx", "inspectors", inspectors)
    write_table(tmp_path / "items.csv", "items", ITEMS)
    for kind, name in (("items", "items.csv"), ("targets", "targets.csv"), ("inspectors", "inspectors.xlsx")):
        result = cli(db_url, "import", kind, str(tmp_path / name))
        assert result.code == 0, result.err
    users = {}
    for name, args in (
        ("samr", ("--role", "officer", "--department", "SAMR")),
        ("tax", ("--role", "officer", "--department", "TAX")),
        ("convener", ("--role", "convener", "--region", "440100")),
    ):
        code = cli(db_url, "admin", "invite", *args).out.splitlines()[0]
        redeemed = cli(db_url, "admin", "redeem", code, "--name", name)
        users[name] = re.match(r"user (\d+)", redeemed.out).group(1)
    return users


def test_round_from_the_console(cli, db_url, province, tmp_path):
    u = province
    proposed = cli(
        db_url,
        "round",
        "propose",
        "--as",
        u["samr"],
        "--lead",
        "SAMR",
        "--title",
        "联合抽查",
        "--region",
        "440100",
        "--items",
        "SAMR-001",
        "--invite",
        "TAX=1",
        "--ratio",
        "A=100",
        "--ratio",
        "D=300",
        "--team",
        "2",
    )
    assert proposed.code == 0, proposed.err
    assert cli(db_url, "round", "approve", "1", "--as", u["convener"]).err.startswith("error: round 1 has no confirmed participant")
    assert cli(db_url, "round", "confirm", "1", "--as", u["samr"], "--department", "TAX", "--items", "TAX-001").code == 1
    assert cli(db_url, "round", "confirm", "1", "--as", u["tax"], "--department", "TAX", "--items", "TAX-001").code == 0
    approved = cli(db_url, "round", "approve", "1", "--as", u["convener"])
    assert approved.code == 0 and re.search(r"commitment [0-9a-f]{64}", approved.out)
    assert "has passed" in cli(db_url, "round", "schedule", "1", "2020-01-01 10:00", "--as", u["convener"]).err
    assert cli(db_url, "round", "schedule", "1", "2099-01-01 10:00", "--as", u["samr"]).code == 1
    scheduled = cli(db_url, "round", "schedule", "1", "2099-01-01 10:00", "--as", u["convener"])
    assert scheduled.code == 0 and "2099-01-01T10:00:00+08:00" in scheduled.out
    assert cli(db_url, "round", "seed", "1", "123", "--as", u["convener"]).code == 1
    assert cli(db_url, "round", "seed", "1", "0123 4567 8901 2345 6789", "--as", u["convener"]).code == 0
    drawn = cli(db_url, "round", "draw", "1", "--as", u["convener"])
    assert drawn.code == 0 and "drawn: 12 targets, 36 assignments" in drawn.out  # A: 30 of 120 → 3; D: 30 → 9
    assert "no redraw" in cli(db_url, "round", "draw", "1", "--as", u["convener"]).err
    shown = cli(db_url, "round", "show", "1", "--as", u["tax"])
    assert '"status": "drawn"' in shown.out and '"tasks": 12' in shown.out
    assert cli(db_url, "round", "list", "--as", u["tax"]).out.startswith("1\tdrawn\t广州市 (440100)")
    assert cli(db_url, "round", "unstaffed", "1", "--as", u["tax"]).out.strip() == "no short team from offset 0"

    bundle = tmp_path / "round-1.zip"
    assert cli(db_url, "round", "archive", "1", str(bundle), "--as", u["samr"]).code == 0
    verified = cli(db_url, "verify", str(bundle))
    assert verified.code == 0 and verified.out.rstrip().endswith("bundle OK")

    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("selected.tsv"):
                lines = data.splitlines(keepends=True)
                data = b"".join([lines[1], lines[0], *lines[2:]])
            dst.writestr(info, data)
    failed = cli(db_url, "verify", str(tampered))
    assert failed.code == 1 and "FAIL" in failed.out and "selected.tsv" in failed.out


def test_plan_import_creates_proposed_rounds_or_nothing(cli, db_url, province, tmp_path):
    u = province
    good = tmp_path / "plan.csv"
    good.write_text(
        "轮次名称,牵头部门,行政区划,抽查事项,参与部门,抽查比例,间隔期,完成期限\n"
        "一季度食品抽查,SAMR,440100,SAMR-001,TAX:1,A:50;B:50,A:365,2027-03-31\n"
        "二季度食品抽查,SAMR,440100,SAMR-001,TAX:2,D:300,,2027-06-30\n",
        encoding="utf-8",
    )
    result = cli(db_url, "plan", "import", str(good), "--as", u["samr"], "--region", "440100", "--year", "2027", "--title", "2027年度计划")
    assert result.code == 0, result.err
    assert "2 rounds proposed: 1, 2" in result.out
    assert cli(db_url, "round", "list", "--as", u["tax"]).out.count("proposed") == 2

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "title,lead,region,items,invited,ratios\n"
        "ok,SAMR,440100,SAMR-001,TAX:1,A:50\n"
        "too high,SAMR,440100,SAMR-001,TAX:1,A:900\n"
        "self,SAMR,440100,SAMR-001,SAMR:1,A:50\n",
        encoding="utf-8",
    )
    result = cli(db_url, "plan", "import", str(bad), "--as", u["samr"], "--region", "440100", "--year", "2027", "--title", "补充计划")
    assert result.code == 1
    assert "line 3: ratio 900‰" in result.err and "line 4: a lead department cannot invite itself" in result.err
    assert cli(db_url, "round", "list", "--as", u["tax"]).out.count("proposed") == 2


def test_plan_import_refusals(cli, db_url, province, tmp_path):
    u = province
    header_only = tmp_path / "empty.csv"
    header_only.write_text("title,lead,region,items,invited,ratios\n", encoding="utf-8")
    args = ("--region", "440100", "--year", "2027", "--title", "计划")
    assert "no rounds" in cli(db_url, "plan", "import", str(header_only), "--as", u["samr"], *args).err
    plan = tmp_path / "plan.csv"
    plan.write_text("title,lead,region,items,invited,ratios\nq1,SAMR,440100,SAMR-001,TAX:1,A:50\n", encoding="utf-8")
    for who in ("tax", "convener"):
        refused = cli(db_url, "plan", "import", str(plan), "--as", u[who], *args)
        assert refused.code == 1 and "line 2: not allowed: round.propose" in refused.err
    # the real console script, with its own logging: the refusal is the one line, no WARNING before it
    env = {**os.environ, "JOINTCHECK_DATABASE_URL": db_url}
    env.pop("JOINTCHECK_LOG_LEVEL", None)
    exe = Path(sys.executable).with_name("jointcheck")
    proc = subprocess.run(
        [str(exe), "plan", "import", str(plan), "--as", u["tax"], *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1 and proc.stderr.startswith("error: nothing imported") and "WARNING" not in proc.stderr, proc.stderr
    outside = tmp_path / "outside.csv"
    outside.write_text("title,lead,region,items,invited,ratios\nq1,SAMR,350100,SAMR-001,TAX:1,A:50\n", encoding="utf-8")
    assert "not inside the plan's region" in cli(db_url, "plan", "import", str(outside), "--as", u["samr"], *args).err
    assert cli(db_url, "plan", "import", str(plan), "--as", u["samr"], *args).code == 0
    again = cli(db_url, "plan", "import", str(plan), "--as", u["samr"], *args)
    assert again.code == 1 and "exists already" in again.err
    assert cli(db_url, "round", "list", "--as", u["samr"]).out.count("proposed") == 1


def test_draw_time_must_carry_its_time_zone(cli, db_url, province):
    args = (
        "round",
        "propose",
        "--as",
        province["samr"],
        "--lead",
        "SAMR",
        "--title",
        "t",
        "--region",
        "440100",
        "--items",
        "SAMR-001",
        "--invite",
        "TAX=1",
        "--ratio",
        "A=100",
    )
    assert "needs a time zone" in cli(db_url, *args, "--draw-at", "2026-12-01T10:00").err
    assert "is not a date and time such as 2026-12-01 10:00" in cli(db_url, *args, "--draw-at", "tomorrow").err
    assert "has passed" in cli(db_url, *args, "--draw-at", "2020-12-01T10:00+08:00").err
    assert cli(db_url, *args, "--draw-at", f"{DRAW_AT.year + 1}-12-01T10:00+08:00").code == 0


def _page(result) -> tuple[list[list[str]], str]:
    assert result.code == 0, result.err
    header, *rows, trailer = result.out.splitlines()
    assert header.startswith("id\t")
    return [row.split("\t") for row in rows], trailer


def test_search_the_directories_from_the_console(cli, db_url, province):
    """`jointcheck search`: a page at a time, inside what the acting user may see."""
    convener = ("--as", province["convener"])  # 440100: every target of the province's sample
    first, trailer = _page(cli(db_url, "search", "targets", "--limit", "100", *convener))
    assert len(first) == 100 and trailer.startswith("100 targets; next page: --after ")
    rest, trailer = _page(cli(db_url, "search", "targets", "--limit", "100", "--after", trailer.rsplit(" ", 1)[1], *convener))
    assert len(rest) == 20 and trailer == "20 targets"
    assert len({row[1] for row in first + rest}) == 120

    # TAX supervises every second target; its officer sees those only, and TAX's inspectors only
    tax_targets, _ = _page(cli(db_url, "search", "targets", "--limit", "100", "--as", province["tax"]))
    assert len(tax_targets) == 60 and all("TAX" in row[7] for row in tax_targets)
    narrowed, _ = _page(cli(db_url, "search", "targets", "--risk", "B,D", "--tag", "食品", "--as", province["tax"]))
    assert narrowed and all(row[6] in "BD" and "食品" in row[8] and "TAX" in row[7] for row in narrowed)
    inspectors, _ = _page(cli(db_url, "search", "inspectors", "--as", province["tax"]))
    assert sorted(row[1] for row in inspectors) == [f"TAX-{k}" for k in range(4)]
    assert {row[3] for row in inspectors} == {"TAX"}
    assert cli(db_url, "search", "inspectors", "--department", "SAMR", "--as", province["tax"]).out.endswith("no inspectors found\n")

    assert "1 to 100" in cli(db_url, "search", "targets", "--limit", "0", *convener).err
    assert "not allowed" in cli(db_url, "search", "targets").err  # the operator administers, and sees no directory


def test_a_5000_character_title_is_refused_everywhere_with_its_reason(cli, db_url, province, tmp_path):
    """One limit per field (core/limits.py), the same in every adapter: the console, plan import,
    and the bot's wizard (tests/e2e/test_bot_propose.py), and the database's column."""
    u, long = province, "题" * 5000
    args = ("--lead", "SAMR", "--region", "440100", "--items", "SAMR-001", "--invite", "TAX=1", "--ratio", "A=100", "--team", "2")
    proposed = cli(db_url, "round", "propose", "--as", u["samr"], "--title", long, *args)
    assert proposed.code == 1 and "the round's title has at most 300 characters (this one has 5000)" in proposed.err
    plan = tmp_path / "plan.csv"
    plan.write_text(
        f"title,lead,region,items,invited,ratios\nq1,SAMR,440100,SAMR-001,TAX:1,A:50\n{long},SAMR,440100,SAMR-001,TAX:1,A:50\n",
        encoding="utf-8",
    )
    imported = cli(db_url, "plan", "import", str(plan), "--as", u["samr"], "--region", "440100", "--year", "2027", "--title", "计划")
    assert imported.code == 1 and "line 3: the round's title has at most 300 characters" in imported.err
    titled = cli(db_url, "plan", "import", str(plan), "--as", u["samr"], "--region", "440100", "--year", "2027", "--title", long)
    assert titled.code == 1 and "the plan's title has at most 300 characters" in titled.err
    assert cli(db_url, "round", "list", "--as", u["samr"]).out.count("proposed") == 0  # nothing of either import stayed
    named = cli(db_url, "admin", "department", "add", "LONG", "局" * 201)
    assert named.code == 1 and "department name has at most 200 characters" in named.err
    # exactly at the limit is taken, by core and by the database's column alike
    assert cli(db_url, "round", "propose", "--as", u["samr"], "--title", "题" * 300, *args).code == 0
