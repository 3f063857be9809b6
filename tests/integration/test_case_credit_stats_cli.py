"""`jointcheck case`, `credit`, `stats` and a special `round propose` from the console, as named users."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from jointcheck.core.db import make_engine, make_sessionmaker
from jointcheck.core.uow import UnitOfWork
from tests.conftest import run_in_thread
from tests.round_world import build_world


def world_in(db_url: str) -> dict[str, str]:
    """The round world in this database; returns each person's user id, as --as takes it."""

    async def build():
        engine = make_engine(db_url)
        sessionmaker = make_sessionmaker(engine)
        try:
            world = await build_world(lambda clock=None: UnitOfWork(sessionmaker, clock))
            return {name: str(actor.user_id) for name, actor in world.actors.items()}
        finally:
            await engine.dispose()

    return run_in_thread(build())


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_cases_credit_and_stats_from_the_console(cli, db_url, tmp_path):
    users = world_in(db_url)
    policy = cli(db_url, "credit", "policy")
    assert policy.code == 0 and "# sha256 " in policy.out and "[raise]" in policy.out and "credit.toml" in policy.out

    opened = cli(
        db_url,
        "case",
        "open",
        "--as",
        users["samr"],
        "--department",
        "SAMR",
        "--target",
        "T0005",
        "--source",
        "complaint",
        "--inspectors",
        "SAMR-00,SAMR-01",
        "--items",
        "SAMR-001",
        "--summary",
        "销售过期食品",
    )
    assert opened.code == 0, opened.err
    assert opened.out.startswith("case 1 opened: task ")
    refused = cli(
        db_url,
        "case",
        "open",
        "--as",
        users["tax"],
        "--department",
        "SAMR",
        "--target",
        "T0006",
        "--source",
        "complaint",
        "--inspectors",
        "SAMR-00",
    )
    assert refused.code == 1 and "not allowed" in refused.err

    listed = cli(db_url, "case", "list", "--as", users["convener"])
    assert listed.code == 0 and "\tT0005\t" in listed.out and "销售过期食品" in listed.out
    history = cli(db_url, "credit", "history", "T0005", "--as", users["samr"])
    assert history.code == 0 and history.out.startswith("T0005\t") and "class B" in history.out

    special = cli(
        db_url,
        "round",
        "propose",
        "--as",
        users["samr"],
        "--lead",
        "SAMR",
        "--title",
        "投诉对象专项",
        "--region",
        "440100",
        "--items",
        "SAMR-001",
        "--invite",
        "TAX=1",
        "--ratio",
        "B=300",
        "--special",
        "--scope-case-sources",
        "complaint",
    )
    assert special.code == 0, special.err

    closed = cli(db_url, "case", "close", "1", "--reason", "投诉不实", "--as", users["samr"])
    assert closed.code == 0 and "case 1 closed" in closed.out
    assert "no cases" in cli(db_url, "case", "list", "--as", users["samr"]).out

    out, chart = tmp_path / "stats.xlsx", tmp_path / "stats.png"
    stats = cli(db_url, "stats", "--as", users["convener"], "--out", str(out), "--chart", str(chart))
    assert stats.code == 0, stats.err
    assert "coverage\t市场监管局\t0/1" in stats.out  # the case's task, one item
    assert load_workbook(out).sheetnames[0] == "覆盖率"
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert cli(db_url, "stats", "--as", users["inspector"]).code == 1  # an inspector has no statistics
