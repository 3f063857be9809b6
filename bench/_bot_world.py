"""The world bench/bot.py submits results in, built once per run through the core services (not
measured): two departments, a drawn round with one task per target, and on every task the draft
results of its first SAMR inspector, ready to be submitted.

Teams are SAMR 2 + TAX 1 and every person has an account, so each submission tells two teammates
and SAMR's officer (three outbox rows), as in tests/test_results.py's world.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from jointcheck.core.authz import Actor
from jointcheck.core.models import CheckItem, Department, Inspector, Task, TeamMember
from jointcheck.core.repositories.bulk_targets import TargetBulkWriter
from jointcheck.core.services.departments import add_department
from jointcheck.core.services.draw import run_draw
from jointcheck.core.services.invites import issue_invite, redeem_invite
from jointcheck.core.services.results import record_result
from jointcheck.core.services.rounds import Proposal, approve_round, enter_seed, propose_round, respond_to_round
from jointcheck.core.uow import UnitOfWork

OPERATOR = Actor.operator("cli:bench")
POOLS = {"SAMR": 12, "TAX": 6}
SAMR_OFFICER, TAX_OFFICER, CONVENER = 9001, 9002, 9003
FIRST_INSPECTOR = 10_000  # Telegram ids of the inspectors, in pool order
# What the submitter records on every task before the bench presses Submit.
DRAFTS = (("SAMR-001", "1", "none"), ("SAMR-K01", "A", "order_correction"))
SEED = "2718 2818 2845 9045 2353 6028"
TODAY = dt.date(2026, 11, 29)


@dataclass(frozen=True)
class Submission:
    task_id: int
    telegram_id: int  # the inspector who presses Submit


async def _step(sessionmaker: async_sessionmaker, fn, *args):
    async with UnitOfWork(sessionmaker) as uow:
        result = await fn(uow, *args)
        await uow.commit()
        return result


async def _account(sessionmaker: async_sessionmaker, telegram_id: int, role: str, **scope) -> Actor:
    async with UnitOfWork(sessionmaker) as uow:
        issued = await issue_invite(uow, OPERATOR, role, **scope)
        user, _ = await redeem_invite(uow, issued.code, telegram_id, f"bench-{telegram_id}", "zh_CN")
        actor = await uow.users.actor_for(user)
        await uow.commit()
        return actor


async def _directory(sessionmaker: async_sessionmaker, targets: int, pools: dict[str, int]) -> None:
    async with UnitOfWork(sessionmaker) as uow:
        ids = {}
        for code, name in (("SAMR", "市场监管局"), ("TAX", "税务局")):
            ids[code] = (await add_department(uow, OPERATOR, code, name)).id
        uow.session.add_all(
            [
                CheckItem(
                    code="SAMR-001",
                    department_id=ids["SAMR"],
                    name="食品经营许可检查",
                    category="general",
                    ratio_cap=None,
                    method="onsite",
                    object_kind="product",
                ),
                CheckItem(
                    code="SAMR-K01",
                    department_id=ids["SAMR"],
                    name="特种设备重点检查",
                    category="key",
                    ratio_cap=None,
                    method="onsite",
                    object_kind="product",
                ),
                CheckItem(
                    code="TAX-001",
                    department_id=ids["TAX"],
                    name="发票使用检查",
                    category="general",
                    ratio_cap=None,
                    method="documentary",
                    object_kind="product",
                ),
            ]
        )
        for department, size in pools.items():
            uow.session.add_all(
                [
                    Inspector(
                        cert_no=f"{department}-{k:02d}", name=f"{department}检查员{k}", department_id=ids[department], kind="enforcement"
                    )
                    for k in range(size)
                ]
            )
        writer = TargetBulkWriter(uow.session)
        await writer.write(
            [
                (f"B{i:06d}", f"对象{i}", "product", "440106", "F51", "ABCD"[i % 4], "SAMR;TAX", "", "active", f"天河路{i}号")
                for i in range(targets)
            ]
        )
        await writer.finish()
        await uow.commit()


async def _drawn_round(sessionmaker: async_sessionmaker, actors: dict[str, Actor]) -> int:
    proposal = Proposal(
        lead="SAMR",
        title="2026年食品联合抽查（基准）",
        region="440100",
        items=("SAMR-001", "SAMR-K01"),
        invited={"TAX": 1},
        ratios={"A": 1000, "B": 1000, "C": 1000, "D": 1000},
        lead_team_size=2,
        due_date=dt.date(2026, 12, 31),
    )
    round_ = await _step(sessionmaker, propose_round, actors["samr"], proposal)
    await _step(sessionmaker, respond_to_round, actors["tax"], round_.id, "TAX", True, ("TAX-001",))
    await _step(sessionmaker, approve_round, actors["convener"], round_.id, TODAY)
    await _step(sessionmaker, enter_seed, actors["convener"], round_.id, SEED)
    await _step(sessionmaker, run_draw, actors["convener"], round_.id)
    return round_.id


async def _submitters(sessionmaker: async_sessionmaker, round_id: int) -> list[tuple[int, str]]:
    """(task id, certificate number of its first SAMR team member), in visit order."""
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Task.id, Inspector.cert_no)
            .join(TeamMember, TeamMember.task_id == Task.id)
            .join(Inspector, Inspector.id == TeamMember.inspector_id)
            .join(Department, Department.id == TeamMember.department_id)
            .where(Task.round_id == round_id, Department.code == "SAMR")
            .order_by(Task.visit_order, TeamMember.position)
        )
        first: dict[int, str] = {}
        for task_id, cert in rows:
            first.setdefault(task_id, cert)
        return list(first.items())


async def build(sessionmaker: async_sessionmaker, tasks: int, pools: dict[str, int] = POOLS) -> list[Submission]:
    """`tasks` tasks, each with its submitter's drafts recorded; one Submission per task. `pools`:
    inspectors per department (more SAMR inspectors, more chats submitting at once)."""
    await _directory(sessionmaker, tasks, pools)
    actors = {
        "samr": await _account(sessionmaker, SAMR_OFFICER, "officer", department="SAMR"),
        "tax": await _account(sessionmaker, TAX_OFFICER, "officer", department="TAX"),
        "convener": await _account(sessionmaker, CONVENER, "convener", region="440100"),
    }
    telegram_of = {}
    for department, size in pools.items():
        for k in range(size):
            cert = f"{department}-{k:02d}"
            telegram_of[cert] = FIRST_INSPECTOR + len(telegram_of)
            actors[cert] = await _account(sessionmaker, telegram_of[cert], "inspector", inspector=cert)
    round_id = await _drawn_round(sessionmaker, actors)
    submitters = await _submitters(sessionmaker, round_id)
    if len(submitters) != tasks:
        raise RuntimeError(f"the draw made {len(submitters)} staffed tasks, not {tasks}")
    async with UnitOfWork(sessionmaker) as uow:
        items = {i.code: i.id for i in (await uow.session.execute(select(CheckItem))).scalars()}
        for task_id, cert in submitters:
            for code, category, follow_up in DRAFTS:
                await record_result(uow, actors[cert], task_id, items[code], category, follow_up)
        await uow.commit()
    return [Submission(task_id, telegram_of[cert]) for task_id, cert in submitters]
