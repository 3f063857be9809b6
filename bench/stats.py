"""The credit loop and the statistics at a round's scale, on SQLite.

    .venv/bin/python bench/stats.py [--targets N]

Builds (not measured) the round world of the tests with N targets, proposes, approves and draws a
round at 250 per mille in every class (SAMR and TAX, one item each: about N/4 tasks), and marks
every result accepted (80% category 1, 10% A, 5% E, 5% C, seeded at random). Then measures:

(a) publish_results for SAMR, then for TAX: the publication with the credit loop judging every
    target it concerns (reads, class changes, history rows and audit events, one transaction);
(b) statistics() for the convener: every aggregate of the year;
(c) the chart as PNG (/stats) and as SVG (the site), and the XLSX workbook.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from jointcheck.core import migrate  # noqa: E402
from jointcheck.core.db import make_engine, make_sessionmaker  # noqa: E402
from jointcheck.core.models import CreditChange, RoundItem, Task  # noqa: E402
from jointcheck.core.services.draw import run_draw  # noqa: E402
from jointcheck.core.services.results import publish_results  # noqa: E402
from jointcheck.core.services.rounds import approve_round, enter_seed, propose_round, respond_to_round  # noqa: E402
from jointcheck.core.services.stats import statistics  # noqa: E402
from jointcheck.core.uow import UnitOfWork  # noqa: E402
from jointcheck.i18n import translations  # noqa: E402
from tests.round_world import build_world, proposal, step  # noqa: E402

SEED = "3141 5926 5358 9793 2384 6264"


async def main(targets: int) -> None:
    folder = tempfile.mkdtemp(prefix="jc-bench-stats-")
    url = f"sqlite+aiosqlite:///{folder}/stats.db"
    migrate.upgrade(url)
    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)

    def uow_factory(clock=None):
        return UnitOfWork(sessionmaker, clock)

    world = await build_world(uow_factory, targets)
    ratios = {"A": 250, "B": 250, "C": 250, "D": 250}
    round_ = await step(
        uow_factory,
        propose_round,
        world.actors["samr"],
        proposal(items=("SAMR-001",), invited={"TAX": 1}, ratios=ratios, lead_team_size=1, cooling_off_days={}, batch_size=None),
    )
    await step(uow_factory, respond_to_round, world.actors["tax"], round_.id, "TAX", True, ("TAX-001",))
    await step(uow_factory, approve_round, world.actors["convener"], round_.id, dt.date(2026, 11, 29))
    await step(uow_factory, enter_seed, world.actors["convener"], round_.id, SEED)
    await step(uow_factory, run_draw, world.actors["convener"], round_.id)

    rng = random.Random(7)
    now = dt.datetime.now(dt.UTC)
    async with uow_factory() as uow:
        task_ids = list((await uow.session.execute(select(Task.id).where(Task.round_id == round_.id).order_by(Task.id))).scalars())
        items = list(
            (
                await uow.session.execute(select(RoundItem.item_id).where(RoundItem.round_id == round_.id).order_by(RoundItem.item_id))
            ).scalars()
        )
        rows = [
            {"task": t, "item": i, "category": rng.choices(["1", "A", "E", "C"], [80, 10, 5, 5])[0], "at": now}
            for t in task_ids
            for i in items
        ]
        await uow.session.execute(
            text(
                "INSERT INTO results (task_id, item_id, category, follow_up, note, status, submitted_at, reviewed_at, review_reason) "
                "VALUES (:task, :item, :category, 'none', '', 'accepted', :at, :at, '')"
            ),
            rows,
        )
        await uow.session.execute(
            text("UPDATE tasks SET status = 'completed', completed_at = :at WHERE round_id = :r"), {"at": now, "r": round_.id}
        )
        await uow.commit()
    print(f"{targets:,} targets, {len(task_ids):,} tasks, {len(rows):,} accepted results")

    for department in ("SAMR", "TAX"):
        started = time.perf_counter()
        published = await step(uow_factory, publish_results, world.actors[department.lower()], round_.id, department)
        elapsed = time.perf_counter() - started
        async with uow_factory() as uow:
            changes = (await uow.session.execute(select(func.count()).select_from(CreditChange))).scalar_one()
        print(f"(a) publish {department}: {published:,} results in {elapsed:.2f} s with the credit loop; {changes:,} class changes so far")

    started = time.perf_counter()
    async with uow_factory() as uow:
        stats = await statistics(uow, world.actors["convener"])
    print(f"(b) statistics: {time.perf_counter() - started:.2f} s ({stats.results:,} results, {len(stats.coverage)} coverage rows)")

    from jointcheck.core.charts import stats_png, stats_svg
    from jointcheck.core.stats_export import stats_workbook

    gettext = translations("zh_CN").gettext
    for name, render in (("PNG", stats_png), ("SVG", stats_svg), ("XLSX", stats_workbook)):
        started = time.perf_counter()
        size = len(render(stats, gettext))
        print(f"(c) {name}: {time.perf_counter() - started:.2f} s, {size:,} bytes")
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().targets))
