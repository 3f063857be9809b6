"""The unit of work: one transaction, its repositories, its audit log and its outbox."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy.ext.asyncio import async_sessionmaker

from jointcheck.core.audit import AuditLog
from jointcheck.core.clock import Clock, utcnow
from jointcheck.core.crashpoints import crashpoint
from jointcheck.core.db import READ_ONLY
from jointcheck.core.repositories.cases import CaseRepository
from jointcheck.core.repositories.credit import CreditRepository
from jointcheck.core.repositories.deadlines import DeadlineRepository
from jointcheck.core.repositories.departments import DepartmentRepository
from jointcheck.core.repositories.directory import InspectorRepository, JointItemRepository, TargetRepository
from jointcheck.core.repositories.fsm_states import FsmStateRepository
from jointcheck.core.repositories.official_days import OfficialDayRepository
from jointcheck.core.repositories.outbox import OutboxRepository
from jointcheck.core.repositories.plans import PlanRepository
from jointcheck.core.repositories.public import PublicRepository
from jointcheck.core.repositories.received_updates import ReceivedUpdateRepository
from jointcheck.core.repositories.rounds import RoundRepository
from jointcheck.core.repositories.stats import StatsRepository
from jointcheck.core.repositories.tasks import TaskRepository
from jointcheck.core.repositories.users import InviteRepository, UserRepository


def _repository(make):
    return cached_property(lambda uow: make(uow.session))


class UnitOfWork:
    """`async with uow:` opens a transaction; nothing is kept unless `commit()` is called."""

    def __init__(self, sessionmaker: async_sessionmaker, clock: Clock | None = None, *, read_only: bool = False, name: str = "unit"):
        self._sessionmaker = sessionmaker
        self.name = name  # for crashpoints: `commit:<name>`
        self.clock = clock or utcnow
        self.session = None
        self._handled_mark = None
        # A unit that only reads: on SQLite it takes no write lock.
        self._options = {READ_ONLY: True} if read_only else None

    async def __aenter__(self) -> UnitOfWork:
        for name in _REPOSITORIES:  # a unit entered again starts with repositories on its new session
            self.__dict__.pop(name, None)
        self.session = self._sessionmaker(execution_options=self._options)
        self._handled_mark = None
        await self.session.begin()
        return self

    def mark_handled_at_commit(self, mark) -> None:
        """Write `mark` (services.received_updates.HandledMark) with this unit's next commit()."""
        self._handled_mark = mark

    async def commit_handled_mark(self) -> None:
        """Commit the pending mark alone, for an update whose handler committed nothing (a read, a
        refusal): what the handler left uncommitted is dropped, as at the end of any update."""
        if self._handled_mark is None or self._handled_mark.done:
            return
        if self.session.in_transaction():
            await self.rollback()
        await self._commit(with_mark=True)

    # Repositories are made on first use: most units of work (every bot update opens one) touch
    # two or three of them.
    audit: AuditLog = cached_property(lambda uow: AuditLog(uow.session, uow.clock))
    outbox: OutboxRepository = _repository(OutboxRepository)
    departments: DepartmentRepository = _repository(DepartmentRepository)
    users: UserRepository = _repository(UserRepository)
    invites: InviteRepository = _repository(InviteRepository)
    inspectors: InspectorRepository = _repository(InspectorRepository)
    targets: TargetRepository = _repository(TargetRepository)
    joint_items: JointItemRepository = _repository(JointItemRepository)
    rounds: RoundRepository = _repository(RoundRepository)
    plans: PlanRepository = _repository(PlanRepository)
    fsm_states: FsmStateRepository = _repository(FsmStateRepository)
    tasks: TaskRepository = _repository(TaskRepository)
    deadlines: DeadlineRepository = _repository(DeadlineRepository)
    credit: CreditRepository = _repository(CreditRepository)
    cases: CaseRepository = _repository(CaseRepository)
    stats: StatsRepository = _repository(StatsRepository)
    public: PublicRepository = _repository(PublicRepository)
    received_updates: ReceivedUpdateRepository = _repository(ReceivedUpdateRepository)
    official_days: OfficialDayRepository = _repository(OfficialDayRepository)

    async def __aexit__(self, exc_type, exc, tb) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        await crashpoint(f"commit:{self.name}")
        await self._commit(with_mark=True)

    async def release(self) -> None:
        """Commit whatever is open, so that no lock is held while the caller waits on something
        else (the network); the next statement begins a new transaction."""
        if self.session is None or not self.session.in_transaction():
            return
        if self.session.is_active:
            await self._commit()
        else:  # a statement failed: nothing of this transaction can be kept, and its locks go all the same
            await self.rollback()

    async def _commit(self, *, with_mark: bool = False) -> None:
        # release() before a Telegram request leaves the mark pending: an update cut off while it
        # waits on Telegram, having changed nothing, is handled again.
        mark = self._handled_mark if with_mark else None
        if mark is not None and not mark.done:
            await self.received_updates.finish(mark.update_id, self.clock())
        await self.session.commit()
        if mark is not None:
            mark.done, self._handled_mark = True, None
        if "audit" in self.__dict__:  # another writer may extend the chain before this unit's next transaction
            self.audit.forget_head()

    async def rollback(self) -> None:
        await self.session.rollback()
        if "audit" in self.__dict__:
            self.audit.forget_head()


_REPOSITORIES = tuple(name for name, value in vars(UnitOfWork).items() if isinstance(value, cached_property))
