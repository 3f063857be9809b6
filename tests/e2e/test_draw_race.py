"""Two processes on one PostgreSQL race for the same draw: one draws, the other is refused, and the
round has one set of tasks (SPEC: there is no redraw)."""

from __future__ import annotations

import asyncio
import os
import re
import sys

import pytest
from sqlalchemy import func, select, text

from jointcheck.core.db import make_engine
from jointcheck.core.models import AuditEvent, Task, TeamMember
from jointcheck.core.services.rounds import approve_round, enter_seed
from tests.integration.test_round_lifecycle import SEED, TODAY, proposed_and_confirmed
from tests.round_world import build_world, step


async def _lock_waiters(engine) -> int:
    """Sessions of this database waiting for a lock (a fresh transaction: pg_stat_activity is a per-transaction snapshot)."""
    async with engine.connect() as connection:
        return (
            await connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
            )
        ).scalar_one()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_two_processes_racing_for_a_draw_draw_it_once(db_url, uow_factory):
    world = await build_world(uow_factory, n_targets=40)
    round_id = await proposed_and_confirmed(uow_factory, world)
    await step(uow_factory, approve_round, world.actors["convener"], round_id, TODAY)
    await step(uow_factory, enter_seed, world.actors["convener"], round_id, SEED)
    command = [sys.executable, "-m", "jointcheck.cli.main", "round", "draw", str(round_id), "--as", str(world.actors["convener"].user_id)]
    env = {**os.environ, "JOINTCHECK_DATABASE_URL": db_url}
    engine = make_engine(db_url)
    racers = []
    try:
        # Holding the round's row makes both racers reach the draw before either can finish it.
        async with engine.connect() as holder:
            await holder.execute(text("SELECT id FROM rounds WHERE id = :id FOR UPDATE"), {"id": round_id})
            for _ in range(2):
                racers.append(
                    await asyncio.create_subprocess_exec(*command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
                )
            deadline = asyncio.get_running_loop().time() + 30
            while await _lock_waiters(engine) < 2:
                assert asyncio.get_running_loop().time() < deadline, "the racers never both waited for the round"
                await asyncio.sleep(0.05)
            await holder.rollback()
        outputs = [await asyncio.wait_for(racer.communicate(), 60) for racer in racers]

        results = sorted((racer.returncode, out.decode(), err.decode()) for racer, (out, err) in zip(racers, outputs))
        (won, drawn, _), (lost, _, refused) = results
        assert (won, lost) == (0, 1), results
        assert refused == f"error: round {round_id} has been drawn already; there is no redraw\n"
        selected, assignments = map(int, re.match(rf"round {round_id} drawn: (\d+) targets, (\d+) assignments\n", drawn).groups())
        async with engine.connect() as connection:

            def count(model, *where):
                return connection.execute(select(func.count()).select_from(model).where(*where))

            assert (await count(Task, Task.round_id == round_id)).scalar_one() == selected > 0
            assert (await count(TeamMember)).scalar_one() == assignments
            assert (await count(AuditEvent, AuditEvent.action == "round.drawn")).scalar_one() == 1
    finally:
        for racer in racers:
            if racer.returncode is None:
                racer.kill()
                await racer.wait()
        await engine.dispose()
