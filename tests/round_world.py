"""A small province for round tests: three departments, their items, targets, pools and people."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from jointcheck.core.authz import Actor
from jointcheck.core.models import CheckItem, Inspector
from jointcheck.core.repositories.bulk_targets import TargetBulkWriter
from jointcheck.core.services.departments import add_department
from jointcheck.core.services.invites import issue_invite, redeem_invite
from jointcheck.core.services.rounds import Proposal

OPERATOR = Actor.operator("cli:test")
POOLS = {"SAMR": 6, "TAX": 4, "EPB": 1}


@dataclass
class World:
    actors: dict[str, Actor]
    department_ids: dict[str, int]


def target_rows(n: int) -> list[tuple]:
    rows = []
    for i in range(n):
        region = "440106" if i % 4 else "440111"
        rows.append(
            (
                f"T{i:04d}",
                f"对象{i}",
                "product",
                region,
                "F51",
                "ABCD"[i % 4],
                "SAMR;TAX" if i % 2 else "SAMR",
                "食品" if i % 3 == 0 else "",
                "active",
                "",
            )
        )
    return rows


async def build_province(uow_factory, n_targets: int = 200) -> dict[str, int]:
    """Departments, their items, the directory and the inspectors; nobody has an account yet."""
    async with uow_factory() as uow:
        ids = {}
        for code, name in (("SAMR", "市场监管局"), ("TAX", "税务局"), ("EPB", "生态环境局")):
            ids[code] = (await add_department(uow, OPERATOR, code, name)).id
        uow.session.add_all(
            [
                CheckItem(
                    code="SAMR-001",
                    department_id=ids["SAMR"],
                    name="食品经营许可检查",
                    category="general",
                    ratio_cap=400,
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
                    ratio_cap=300,
                    method="documentary",
                    object_kind="product",
                ),
                CheckItem(
                    code="EPB-001",
                    department_id=ids["EPB"],
                    name="排污许可检查",
                    category="general",
                    ratio_cap=500,
                    method="onsite",
                    object_kind="product",
                ),
            ]
        )
        for department, size in POOLS.items():
            for k in range(size):
                uow.session.add(
                    Inspector(
                        cert_no=f"{department}-{k:02d}", name=f"{department}检查员{k}", department_id=ids[department], kind="enforcement"
                    )
                )
        uow.session.add(Inspector(cert_no="SAMR-EXP", name="专家甲", department_id=ids["SAMR"], kind="expert"))
        writer = TargetBulkWriter(uow.session)
        await writer.write(target_rows(n_targets))
        await writer.finish()
        await uow.commit()
    return ids


async def build_world(uow_factory, n_targets: int = 200) -> World:
    """The province, and its people bound to Telegram ids 1000 on (see `people` below)."""
    ids = await build_province(uow_factory, n_targets)
    actors = {}
    people = [
        ("samr", "officer", {"department": "SAMR"}),
        ("tax", "officer", {"department": "TAX"}),
        ("epb", "officer", {"department": "EPB"}),
        ("convener", "convener", {"region": "440100"}),
        ("other_convener", "convener", {"region": "350100"}),
        ("inspector", "inspector", {"inspector": "SAMR-00"}),
    ]
    for telegram_id, (name, role, scope) in enumerate(people, start=1000):
        async with uow_factory() as uow:
            issued = await issue_invite(uow, OPERATOR, role, **scope)
            user, _ = await redeem_invite(uow, issued.code, telegram_id, name)
            actors[name] = await uow.users.actor_for(user)
            await uow.commit()
    return World(actors, ids)


# A draw time ahead of the test run (core refuses one that has passed), on the hour.
DRAW_AT = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).replace(minute=0, second=0, microsecond=0)


def proposal(**overrides) -> Proposal:
    values = dict(
        lead="SAMR",
        title="2026年食品联合抽查",
        region="440100",
        items=("SAMR-001", "SAMR-K01"),
        invited={"TAX": 1, "EPB": 1},
        ratios={"A": 100, "B": 200, "C": 300, "D": 300},
        lead_team_size=2,
        cooling_off_days={"A": 365, "B": 180},
        batch_size=5,
        draw_at=DRAW_AT,
        due_date=max(dt.date(2026, 12, 31), DRAW_AT.date()),
    )
    values.update(overrides)
    return Proposal(**values)


async def step(uow_factory, fn, *args, **kw):
    """One core service call in its own committed unit of work."""
    async with uow_factory() as uow:
        result = await fn(uow, *args, **kw)
        await uow.commit()
        return result
