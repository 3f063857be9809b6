"""The scheduler: jobs rebuilt from the database, a missed draw run at start, a timed draw run on
time and once, the sweeper; and one leader among processes on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select, text, update

from jointcheck.core.db import make_engine
from jointcheck.core.models import AuditEvent, OutboxMessage, ReceivedUpdate, Round
from jointcheck.core.services.audit_heads import published_heads
from jointcheck.core.services.rounds import approve_round, enter_seed, propose_round, respond_to_round
from jointcheck.scheduler.jobs import Scheduler, draw_job_id
from jointcheck.scheduler.leader import Leadership
from tests.integration.test_round_lifecycle import SEED, TODAY
from tests.round_world import build_world, proposal, step


@pytest.fixture
async def world(uow_factory):
    return await build_world(uow_factory)


async def seeded_round(uow_factory, world, draw_at: dt.datetime) -> int:
    round_ = await step(uow_factory, propose_round, world.actors["samr"], proposal(draw_at=None, due_date=None))
    await step(uow_factory, respond_to_round, world.actors["tax"], round_.id, "TAX", True, ("TAX-001",))
    await step(uow_factory, approve_round, world.actors["convener"], round_.id, TODAY)
    await step(uow_factory, enter_seed, world.actors["convener"], round_.id, SEED)
    await set_draw_at(uow_factory, round_.id, draw_at)
    return round_.id


async def set_draw_at(uow_factory, round_id: int, draw_at: dt.datetime) -> None:
    async with uow_factory() as uow:  # as if set while the service was down (the service refuses a past time)
        await uow.session.execute(update(Round).where(Round.id == round_id).values(draw_at=draw_at))
        await uow.commit()


async def status(sessionmaker, round_id: int) -> str:
    async with sessionmaker() as session:
        return (await session.execute(select(Round.status).where(Round.id == round_id))).scalar_one()


async def eventually(check, timeout: float = 10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_draw_missed_while_down_runs_at_start_and_a_timed_one_on_time(sessionmaker, uow_factory, world):
    now = dt.datetime.now(dt.UTC)
    missed = await seeded_round(uow_factory, world, now - dt.timedelta(hours=3))
    soon = await seeded_round(uow_factory, world, now + dt.timedelta(seconds=2))
    scheduler = Scheduler(sessionmaker, sweep_seconds=3600)
    await scheduler.start()
    try:
        assert draw_job_id(soon) in scheduler.job_ids()
        await eventually(lambda: _is(sessionmaker, missed, "drawn"))
        assert await status(sessionmaker, soon) == "seeded"  # not before its time
        await eventually(lambda: _is(sessionmaker, soon, "drawn"))
        assert dt.datetime.now(dt.UTC) >= now + dt.timedelta(seconds=2)
        await scheduler.rebuild()
        assert scheduler.job_ids() == ["sweep"]  # drawn rounds need no job
    finally:
        await scheduler.stop()
    async with sessionmaker() as session:  # each participant heard of each draw once
        drawn = (
            await session.execute(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.template == "round_drawn"))
        ).scalar_one()
    assert drawn == 4  # two rounds × the officers of SAMR and TAX


async def _is(sessionmaker, round_id: int, wanted: str) -> bool:
    return await status(sessionmaker, round_id) == wanted


async def test_the_sweeper_draws_what_a_job_missed_and_follows_moved_times(sessionmaker, uow_factory, world):
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    round_id = await seeded_round(uow_factory, world, later)
    scheduler = Scheduler(sessionmaker, sweep_seconds=3600)
    await scheduler.start()
    try:
        assert draw_job_id(round_id) in scheduler.job_ids()
        await set_draw_at(uow_factory, round_id, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))  # moved by another process
        await scheduler.sweep()
        assert await status(sessionmaker, round_id) == "drawn"
        assert scheduler.job_ids() == ["sweep"]
    finally:
        await scheduler.stop()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_one_leader_on_postgresql_and_another_takes_over(db_url):
    engines = [make_engine(db_url), make_engine(db_url)]
    first, second = (Leadership(engine, retry_seconds=0.1) for engine in engines)
    try:
        await asyncio.wait_for(first.acquire(), 5)
        waiting = asyncio.create_task(second.acquire())
        await asyncio.sleep(0.5)
        assert not waiting.done()  # the lock is held
        watching = asyncio.create_task(first.lost())
        async with engines[1].connect() as admin:  # the leader's connection dies, as with kill -9
            # pg_locks spans the whole server: only this test's database, or another test run on
            # the same server loses its connections.
            await admin.execute(
                text(
                    "SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                    "WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid() AND d.datname = current_database()"
                )
            )
            await admin.commit()
        await asyncio.wait_for(watching, 5)
        await asyncio.wait_for(waiting, 5)  # the follower leads now
        await second.release()
    finally:
        for engine in engines:
            await engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_sqlite_has_one_process_which_leads_at_once(db_url):
    engine = make_engine(db_url)
    try:
        await asyncio.wait_for(Leadership(engine).acquire(), 1)
    finally:
        await engine.dispose()


async def test_the_sweep_publishes_the_days_audit_head_once_and_forgets_old_updates(sessionmaker, uow_factory, world):
    now = dt.datetime.now(dt.UTC)
    async with uow_factory() as uow:
        uow.session.add_all(
            [
                ReceivedUpdate(update_id=1, payload="{}", received_at=now - dt.timedelta(days=3), handled_at=now - dt.timedelta(days=3)),
                ReceivedUpdate(update_id=2, payload="{}", received_at=now - dt.timedelta(minutes=1), handled_at=now),
            ]
        )
        await uow.commit()
    scheduler = Scheduler(sessionmaker, sweep_seconds=3600)
    await scheduler.sweep()
    await scheduler.sweep()  # the day's head is published once
    async with uow_factory() as uow:
        heads = await published_heads(uow)
        last = (await uow.session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1))).one()
        kept = (await uow.session.execute(select(ReceivedUpdate.update_id))).scalars().all()
    assert [(h.occasion, h.seq, h.hash) for h in heads] == [("daily", last.seq, last.hash)]
    assert kept == [2]
