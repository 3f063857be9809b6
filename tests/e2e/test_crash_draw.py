"""Kill -9 during a timed draw, at a point inside its transaction (jointcheck/core/crashpoints.py)
where it has claimed the draw, stored its files and written every task and team member: nothing of
the draw is left behind, and the restarted service draws the round once and tells everyone once."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys

from sqlalchemy import func, select, update

from jointcheck.core import public_proof as proof
from jointcheck.core.models import AuditEvent, Draw, OutboxMessage, Round, Task
from jointcheck.core.services.rounds import approve_round, enter_seed, propose_round, respond_to_round
from tests.integration.test_round_lifecycle import SEED, TODAY
from tests.round_world import build_world, proposal, step

TARGETS = 3_000


async def start_service(emulator, db_url, **more_env: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "JOINTCHECK_DATABASE_URL": db_url,
        "JOINTCHECK_BOT_TOKEN": emulator.token,
        "JOINTCHECK_BOT_API_URL": emulator.base_url,
        "JOINTCHECK_SITE_PORT": "0",
        "JOINTCHECK_OUTBOX_INTERVAL": "0.1",
        "JOINTCHECK_LOG_LEVEL": "WARNING",
        **more_env,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "jointcheck.cli.main", "run", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )


async def until_logged(process, text: str, timeout: float = 60) -> None:
    async def read():
        while line := await process.stderr.readline():
            if text in line.decode():
                return
        raise AssertionError(f"the service exited before logging {text!r}")

    await asyncio.wait_for(read(), timeout)


async def draw_state(sessionmaker, round_id: int) -> tuple[str, bool, int, int, int]:
    async with sessionmaker() as session:
        status = (await session.execute(select(Round.status).where(Round.id == round_id))).scalar_one()
        claimed = (await session.execute(select(Draw.drawn_at).where(Draw.round_id == round_id))).scalar_one() is not None
        tasks = (await session.execute(select(func.count()).select_from(Task).where(Task.round_id == round_id))).scalar_one()
        events = (
            await session.execute(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "round.drawn"))
        ).scalar_one()
        notices = (
            await session.execute(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.template.in_(("round_drawn", "tasks_assigned")))
            )
        ).scalar_one()
        return status, claimed, tasks, events, notices


async def test_kill_9_during_a_timed_draw(emulator, db_url, sessionmaker, uow_factory):
    world = await build_world(uow_factory, n_targets=TARGETS)
    round_ = await step(uow_factory, propose_round, world.actors["samr"], proposal(draw_at=None, due_date=None, invited={"TAX": 1}))
    await step(uow_factory, respond_to_round, world.actors["tax"], round_.id, "TAX", True, ("TAX-001",))
    await step(uow_factory, approve_round, world.actors["convener"], round_.id, TODAY)
    await step(uow_factory, enter_seed, world.actors["convener"], round_.id, SEED)
    async with uow_factory() as uow:  # due while the service was down
        await uow.session.execute(
            update(Round).where(Round.id == round_.id).values(draw_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        )
        params = proof.parse_params(await uow.rounds.file((await uow.rounds.draw_of(round_.id)).id, "params.json"))
        await uow.commit()
    expected = sum(stratum["k"] for stratum in params["strata"].values())
    samr, inspector = emulator.user(1000, "samr"), emulator.user(1005, "inspector")
    for telegram_id in (1001, 1002, 1003, 1004):
        emulator.user(telegram_id, f"u{telegram_id}")

    first = await start_service(emulator, db_url, JOINTCHECK_CRASH_AT="draw:tasks")
    try:
        await until_logged(first, "crash point draw:tasks reached")
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    assert await draw_state(sessionmaker, round_.id) == ("seeded", False, 0, 0, 0)

    second = await start_service(emulator, db_url)
    try:
        await until_logged(second, "timed draw starting")
        await samr.wait_for("已完成抽取", timeout=120, since_last_action=False)
        await inspector.wait_for("新的检查任务", timeout=30, since_last_action=False)
        await asyncio.sleep(1.0)  # anything sent twice would have arrived by now
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), 30)
    status, claimed, tasks, events, _ = await draw_state(sessionmaker, round_.id)
    assert (status, claimed, tasks, events) == ("drawn", True, expected, 1)
    assert sum("已完成抽取" in (m.text or "") for m in samr.messages) == 1
    assert sum("新的检查任务" in (m.text or "") for m in inspector.messages) == 1
