"""The scheduler: APScheduler's AsyncIOScheduler with jobs rebuilt from the database.

One job per timed draw (id `draw:<round>`, a date trigger at the round's draw time, no misfire
grace: a draw due while the service was down runs as soon as it starts), and a sweeper every
`sweep_seconds` that runs whatever is due now (draws included, in case another process set a
time since the last rebuild) and rebuilds the draw jobs. The job store is in memory and belongs
to this process; the database is the only shared truth.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import async_sessionmaker

from jointcheck.core.clock import Clock
from jointcheck.core.services import received_updates
from jointcheck.core.services.audit_heads import publish_daily_head
from jointcheck.core.services.deadlines import DeadlinePolicy, due_draws, run_due_draw, scheduled_draws, sweep
from jointcheck.core.uow import UnitOfWork

log = logging.getLogger("jointcheck.scheduler")

SWEEP_JOB = "sweep"


def draw_job_id(round_id: int) -> str:
    return f"draw:{round_id}"


class Scheduler:
    def __init__(
        self,
        sessionmaker: async_sessionmaker,
        *,
        policy: DeadlinePolicy | None = None,
        sweep_seconds: float = 60.0,
        clock: Clock | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._policy = policy or DeadlinePolicy()
        self._sweep_seconds = sweep_seconds
        self._clock = clock
        self._scheduler = AsyncIOScheduler(
            timezone=dt.UTC,
            job_defaults={
                "misfire_grace_time": None,
                "coalesce": True,
                "max_instances": 1,
            },
        )
        self._running: set[asyncio.Task] = set()

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._sessionmaker, self._clock)

    @property
    def running(self) -> bool:
        return self._scheduler.running

    def job_ids(self) -> list[str]:
        return sorted(job.id for job in self._scheduler.get_jobs())

    async def start(self) -> None:
        self._scheduler.start()
        await self.rebuild()
        self._scheduler.add_job(
            self._tracked,
            IntervalTrigger(seconds=self._sweep_seconds),
            args=[self.sweep],
            id=SWEEP_JOB,
            replace_existing=True,
            next_run_time=dt.datetime.now(dt.UTC),
        )

    async def stop(self) -> None:
        """No new runs; a job running now is cancelled and waited for, so it ends (rolled back)
        while the database is still there, not after whoever owns the engine has closed it."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        running = [task for task in self._running if task is not asyncio.current_task()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    async def _tracked(self, job: Callable[..., Awaitable[None]], *args) -> None:
        task = asyncio.current_task()
        self._running.add(task)
        try:
            await job(*args)
        finally:
            self._running.discard(task)

    async def rebuild(self) -> None:
        """A job per round with a draw time still to come; jobs of rounds drawn or moved go."""
        async with self._uow() as uow:
            wanted = {draw_job_id(round_id): (round_id, at) for round_id, at, _ in await scheduled_draws(uow)}
        for job in self._scheduler.get_jobs():
            if job.id.startswith("draw:") and job.id not in wanted:
                job.remove()
        for job_id, (round_id, at) in wanted.items():
            job = self._scheduler.get_job(job_id)
            if job is None or job.trigger.run_date != at:
                self._scheduler.add_job(
                    self._tracked,
                    DateTrigger(run_date=at),
                    args=[self.draw, round_id],
                    id=job_id,
                    replace_existing=True,
                    misfire_grace_time=None,
                )

    async def draw(self, round_id: int) -> None:
        try:
            async with self._uow() as uow:
                report = await run_due_draw(uow, round_id)
                await uow.commit()
        except Exception:  # a failed draw is rolled back whole; the sweeper tries again
            log.exception("timed draw of round %s failed", round_id)
            return
        if report is not None:
            log.warning("round %s drawn on schedule: %s targets", round_id, report.selected)

    async def sweep(self) -> None:
        try:
            async with self._uow() as uow:
                due = await due_draws(uow)
            for round_id in due:
                await self.draw(round_id)
            async with self._uow() as uow:
                counts = await sweep(uow, self._policy)
                await uow.commit()
            async with self._uow() as uow:
                if head := await publish_daily_head(uow):
                    log.warning("audit chain head of the day published: %s", head.anchor)
                await received_updates.forget_old(uow)
                await uow.commit()
            if any(counts.values()):
                log.info("sweep queued %s", counts)
            await self.rebuild()
        except Exception:  # keep sweeping: the next minute may find the database back
            log.exception("scheduler sweep failed")
