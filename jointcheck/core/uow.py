"""The unit of work: one transaction, its repositories, its audit log and its outbox."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker

from jointcheck.core.audit import AuditLog
from jointcheck.core.clock import Clock, utcnow
from jointcheck.core.repositories.deadlines import DeadlineRepository
from jointcheck.core.repositories.departments import DepartmentRepository
from jointcheck.core.repositories.fsm_states import FsmStateRepository
from jointcheck.core.repositories.outbox import OutboxRepository
from jointcheck.core.repositories.plans import PlanRepository
from jointcheck.core.repositories.rounds import RoundRepository
from jointcheck.core.repositories.tasks import TaskRepository
from jointcheck.core.repositories.directory import InspectorRepository, TargetRepository
from jointcheck.core.repositories.users import InviteRepository, UserRepository


class UnitOfWork:
    """`async with uow:` opens a transaction; nothing is kept unless `commit()` is called."""

    def __init__(self, sessionmaker: async_sessionmaker, clock: Clock | None = None):
        self._sessionmaker = sessionmaker
        self.clock = clock or utcnow
        self.session = None

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessionmaker()
        await self.session.begin()
        self.audit = AuditLog(self.session, self.clock)
        self.outbox = OutboxRepository(self.session)
        self.departments = DepartmentRepository(self.session)
        self.users = UserRepository(self.session)
        self.invites = InviteRepository(self.session)
        self.inspectors = InspectorRepository(self.session)
        self.targets = TargetRepository(self.session)
        self.rounds = RoundRepository(self.session)
        self.plans = PlanRepository(self.session)
        self.fsm_states = FsmStateRepository(self.session)
        self.tasks = TaskRepository(self.session)
        self.deadlines = DeadlineRepository(self.session)
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()
        self.audit.forget_head()
