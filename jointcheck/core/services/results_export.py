"""Results for a department's own report (`jointcheck export results`): one row per target and
item, Chinese headers and names, local dates, in the columns the upload to the national enterprise
credit publicity system (国家企业信用信息公示系统) asks for.

Unlike the public record this is the department's own data: unmasked names, every accepted or
published result of the departments the actor is an officer of (an administrator: all).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import queue
from pathlib import Path

from jointcheck.core.authz import Action, Actor, Scope, authorize
from jointcheck.core.clock import DOMAIN_TZ, local_date
from jointcheck.core.directory_io.writers import write_plain_table
from jointcheck.core.errors import InvalidInput, NotFound
from jointcheck.core.models import Role
from jointcheck.core.result_categories import CATEGORIES, FOLLOW_UPS
from jointcheck.core.uow import UnitOfWork
from jointcheck.i18n import translations

HEADER = (
    "统一社会信用代码/注册号",
    "市场主体名称",
    "检查实施机关",
    "检查类型",
    "检查日期",
    "检查结果",
    "检查结果代码",
    "后续处置",
    "抽查事项编码",
    "抽查事项",
    "抽查任务编号",
    "抽查任务名称",
    "结果状态",
    "公示日期",
    "公示后信用风险分类",  # the credit loop's class of the target once this result was published
)
CHECK_TYPES = {"regular": "双随机抽查", "special": "专项抽查", "case": "定向检查"}
STATUS = {"accepted": "已审核待公示", "published": "已公示"}


def _chinese(table: dict[str, str], code: str) -> str:
    return translations("zh_CN").gettext(table[code]) if code in table else code


def _row(row: tuple) -> list[str] | None:
    (
        _,
        code,
        name,
        _kind,
        department,
        round_id,
        title,
        round_kind,
        source,
        inspected_on,
        finished,
        item_code,
        item_name,
        category,
        follow_up,
        status,
        published_at,
        class_after,
    ) = row
    day = inspected_on or (local_date(finished) if finished else None)
    return [
        code,
        name,
        department,
        CHECK_TYPES["case"] if source == "case" else CHECK_TYPES.get(round_kind, round_kind),
        day.isoformat() if day else "",
        _chinese(CATEGORIES, category),
        category,
        _chinese(FOLLOW_UPS, follow_up),
        item_code,
        item_name,
        str(round_id),
        title,
        STATUS.get(status, status),
        published_at.astimezone(DOMAIN_TZ).strftime("%Y-%m-%d %H:%M") if published_at else "",
        class_after or "",
    ]


async def export_results(
    uow: UnitOfWork,
    actor: Actor,
    path: str | Path,
    *,
    round_id: int | None = None,
    department: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> int:
    """Write the report (CSV or XLSX by extension); returns its number of rows."""
    if date_from and date_to and date_from > date_to:
        raise InvalidInput("--from is after --to")
    if department:
        found = await uow.departments.by_code(department)
        if found is None:
            raise NotFound(f"no department with code {department}")
        authorize(actor, Action.RESULT_PUBLISH, Scope.of(departments=[found.id]))
        departments: list[int] | None = [found.id]
    elif actor.has_role(Role.ADMIN):
        departments = None
    else:
        departments = sorted(actor.department_ids())
        if not departments:
            authorize(actor, Action.RESULT_PUBLISH, Scope())
    if round_id is not None and await uow.rounds.get(round_id) is None:
        raise NotFound(f"round {round_id} not found")
    handoff: queue.Queue = queue.Queue(maxsize=4)
    done = object()

    def rows():
        while (batch := handoff.get()) is not done:
            yield from batch

    writing = asyncio.ensure_future(asyncio.to_thread(write_plain_table, Path(path), "检查结果", HEADER, rows()))
    try:
        async for batch in uow.tasks.report_rows(departments, round_id):
            out = []
            for row in batch:
                line = _row(row)
                day = line[4]
                if (date_from and (not day or day < date_from.isoformat())) or (date_to and (not day or day > date_to.isoformat())):
                    continue
                out.append(line)
            await asyncio.to_thread(handoff.put, out)
    finally:
        await asyncio.to_thread(handoff.put, done)
    return await writing
