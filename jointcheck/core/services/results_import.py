"""Results entered in batch from paper (SPEC section 5): `jointcheck import results FILE`.

An officer enters the results of their own department's items, as its inspectors would in chat:
each row becomes a submitted result, awaiting review like one sent from chat, with the same audit
event and the same notice to the department's officers. The rules are the directory imports':
CSV (UTF-8, BOM, GB18030) or XLSX, Chinese or English headers, every problem reported with its
line, column and reason, and nothing written unless every row is right.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from jointcheck.core import limits
from jointcheck.core.authz import Action, Actor, Scope, authorize
from jointcheck.core.clock import local_date
from jointcheck.core.directory_io.errors import HeaderError, RowError
from jointcheck.core.directory_io.readers import open_table
from jointcheck.core.errors import NotFound
from jointcheck.core.models import CheckItem, Inspector, Result, RoundItem, Target, Task, TeamMember
from jointcheck.core.result_categories import CATEGORIES, FOLLOW_UPS
from jointcheck.core.services.notify import notify_departments
from jointcheck.core.services.results import EDITABLE
from jointcheck.core.uow import UnitOfWork
from jointcheck.i18n import translations

KIND = "results"
MAX_ROWS = 100_000  # a batch from paper; a bigger file is refused rather than held in memory

# column key -> (required, names it goes by; English matched case-insensitively)
COLUMNS: dict[str, tuple[bool, tuple[str, ...]]] = {
    "round": (True, ("round", "round_id", "轮次", "抽查任务编号", "任务编号")),
    "target": (True, ("target", "target_code", "code", "统一社会信用代码", "统一社会信用代码/注册号", "注册号", "检查对象代码")),
    "item": (True, ("item", "item_code", "事项编码", "抽查事项编码")),
    "category": (True, ("category", "result", "检查结果", "结果类别", "检查结果代码")),
    "follow_up": (False, ("follow_up", "follow-up", "后续处置")),
    "note": (False, ("note", "备注", "说明")),
    "inspectors": (True, ("inspectors", "cert_nos", "检查人员执法证号", "执法证号", "检查人员")),
    "date": (True, ("date", "inspection_date", "inspected_on", "检查日期")),
}


@dataclass(frozen=True)
class ResultRow:
    line: int
    round_id: int
    target: str
    item: str
    category: str
    follow_up: str
    note: str
    inspectors: tuple[str, ...]
    date: dt.date


@dataclass
class ImportReport:
    rows: int
    imported: int
    errors: list[RowError]


def _names(table: dict[str, str]) -> dict[str, str]:
    """Codes, English names and Chinese names of a label table, all to the code."""
    zh = translations("zh_CN")
    out = {}
    for code, label in table.items():
        out[code.lower()] = code
        out[label.lower()] = code
        out[zh.gettext(label)] = code
    return out


_CATEGORY = _names(CATEGORIES)
_FOLLOW_UP = _names(FOLLOW_UPS) | {"": "none", "无": "none"}


def _match_header(header: list[str]) -> list[str | None]:
    lookup = {name.lower(): key for key, (_, names) in COLUMNS.items() for name in names}
    keys, unknown, seen, duplicated = [], [], set(), []
    for cell in header:
        name = (cell or "").replace("\ufeff", "").strip()
        key = lookup.get(name.lower()) if name else None
        if name and key is None:
            unknown.append(name)
        if key in seen:
            duplicated.append(name)
        seen.add(key)
        keys.append(key)
    missing = [key for key, (required, _) in COLUMNS.items() if required and key not in seen]
    if unknown or missing or duplicated:
        raise HeaderError(KIND, unknown=unknown, missing=missing, duplicated=duplicated)
    return keys


def _read(path: str | Path, today: dt.date) -> tuple[list[ResultRow], list[RowError], int]:
    """Every row checked on its own: formats and known names (the database is asked later)."""
    rows, errors, total = [], [], 0
    with open_table(path) as table:
        keys: list[str | None] | None = None
        for line, cells in table.rows():
            if keys is None:
                keys = _match_header(cells)
                continue
            if not any(c.strip() for c in cells):
                continue
            total += 1
            if total > MAX_ROWS:
                errors.append(RowError(line, "", "", f"a batch has at most {MAX_ROWS} rows; split the file"))
                break
            values = {k: (cells[i].strip() if i < len(cells) else "") for i, k in enumerate(keys) if k}
            bad = len(errors)

            def fail(column: str, reason: str, line=line, values=values) -> None:
                errors.append(RowError(line, column, values.get(column, ""), reason))

            for key, (required, _) in COLUMNS.items():
                if required and not values.get(key):
                    fail(key, "is required")
            round_text = values.get("round", "")
            if round_text and not (round_text.isdigit() and len(round_text) < 10):
                fail("round", "is not a round number")
            category = _CATEGORY.get(values.get("category", "").lower()) or _CATEGORY.get(values.get("category", ""))
            if values.get("category") and category is None:
                fail("category", f"is not a standard result category ({', '.join(CATEGORIES)})")
            follow_text = values.get("follow_up", "")
            follow_up = _FOLLOW_UP.get(follow_text.lower()) or _FOLLOW_UP.get(follow_text)
            if follow_up is None:
                fail("follow_up", f"is not a follow-up action ({', '.join(FOLLOW_UPS)})")
            if len(values.get("note", "")) > limits.NOTE:
                fail("note", f"has more than {limits.NOTE} characters")
            day = None
            if values.get("date"):
                try:
                    day = dt.date.fromisoformat(values["date"][:10])
                except ValueError:
                    fail("date", "is not a date as YYYY-MM-DD")
                else:
                    if day > today:
                        fail("date", "is in the future")
            certs = tuple(dict.fromkeys(c.strip() for c in values.get("inspectors", "").replace("；", ";").split(";") if c.strip()))
            if len(errors) == bad:
                rows.append(
                    ResultRow(
                        line, int(round_text), values["target"], values["item"], category, follow_up, values.get("note", ""), certs, day
                    )
                )
    if keys is None:
        raise HeaderError(KIND, unknown=[], missing=[k for k, (r, _) in COLUMNS.items() if r], duplicated=[])
    return rows, errors, total


async def import_results(uow: UnitOfWork, actor: Actor, path: str | Path, *, dry_run: bool = False) -> ImportReport:
    """Check every row, then (only if all are right, and not `dry_run`) enter them as submitted
    results. The caller commits; a report with errors has written nothing."""
    departments = sorted(actor.department_ids())
    authorize(actor, Action.RESULT_REVIEW, Scope.of(departments=departments) if departments else Scope())
    if not Path(path).is_file():
        raise NotFound(f"no file {path}")
    rows, errors, total = _read(path, local_date(uow.clock()))
    session = uow.session

    # the round's tasks, items and teams that the rows name, asked once per round
    tasks: dict[tuple[int, str], Task] = {}
    items: dict[tuple[int, str], CheckItem] = {}
    for round_id in sorted({r.round_id for r in rows}):
        codes = sorted({r.target for r in rows if r.round_id == round_id})
        for start in range(0, len(codes), 1000):
            query = select(Task, Target.code).join(Target, Target.id == Task.target_id)
            query = query.where(Task.round_id == round_id, Target.code.in_(codes[start : start + 1000]))
            for task, code in await session.execute(query):
                tasks[(round_id, code)] = task
        query = select(CheckItem).join(RoundItem, RoundItem.item_id == CheckItem.id).where(RoundItem.round_id == round_id)
        for item in (await session.execute(query)).scalars():
            items[(round_id, item.code)] = item
    task_ids = sorted({t.id for t in tasks.values()})
    team: dict[int, dict[str, int]] = defaultdict(dict)  # task -> cert -> department
    existing: dict[tuple[int, int], Result] = {}
    for start in range(0, len(task_ids), 1000):
        chunk = task_ids[start : start + 1000]
        query = select(TeamMember.task_id, Inspector.cert_no, TeamMember.department_id).join(
            Inspector, Inspector.id == TeamMember.inspector_id
        )
        for task_id, cert, department_id in await session.execute(query.where(TeamMember.task_id.in_(chunk))):
            team[task_id][cert] = department_id
        for result in (await session.execute(select(Result).where(Result.task_id.in_(chunk)))).scalars():
            existing[(result.task_id, result.item_id)] = result

    good: list[tuple[ResultRow, Task, CheckItem]] = []
    seen: dict[tuple[int, int], int] = {}
    for row in rows:
        before = len(errors)
        task = tasks.get((row.round_id, row.target))
        item = items.get((row.round_id, row.item))
        if task is None:
            errors.append(RowError(row.line, "target", row.target, f"was not drawn in round {row.round_id} (or the round does not exist)"))
        if item is None:
            errors.append(RowError(row.line, "item", row.item, f"is not an item of round {row.round_id}"))
        elif item.department_id not in departments:
            errors.append(RowError(row.line, "item", row.item, "is recorded by its own department's officers"))
        if task is not None and item is not None:
            for cert in row.inspectors:
                if team[task.id].get(cert) != item.department_id:
                    errors.append(RowError(row.line, "inspectors", cert, f"is not on this task's team for {row.item}"))
            result = existing.get((task.id, item.id))
            if result is not None and result.status not in EDITABLE:
                errors.append(RowError(row.line, "item", row.item, f"its result on this target is {result.status} already"))
            if (task.id, item.id) in seen:
                errors.append(RowError(row.line, "item", row.item, f"this target and item are on line {seen[(task.id, item.id)]} already"))
            seen[(task.id, item.id)] = row.line
        if len(errors) == before:
            good.append((row, task, item))
    errors.sort(key=lambda e: (e.line, list(COLUMNS).index(e.column) if e.column in COLUMNS else -1))
    report = ImportReport(rows=total, imported=0, errors=errors)
    if errors or dry_run or not good:
        return report

    now = uow.clock()
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    by_task: dict[int, list[tuple[ResultRow, Task, CheckItem]]] = defaultdict(list)
    for row, task, item in good:
        result = existing.get((task.id, item.id))
        if result is None:
            result = Result(task_id=task.id, item_id=item.id, review_reason="")
            session.add(result)
        result.category, result.follow_up, result.note, result.status = row.category, row.follow_up, row.note.strip(), "submitted"
        result.submitted_by_user_id, result.submitted_at, result.inspected_on = actor.user_id, now, row.date
        result.reviewed_by_user_id, result.reviewed_at = None, None
        by_task[task.id].append((row, task, item))
    await session.flush()
    for task_id, entries in sorted(by_task.items()):
        codes = sorted(item.code for _, _, item in entries)
        event = await uow.audit.record(
            actor,
            "result.submitted",
            "task",
            task_id,
            {
                "items": codes,
                "categories": {item.code: row.category for row, _, item in entries},
                "inspectors": sorted({c for row, _, _ in entries for c in row.inspectors}),
                "inspected_on": sorted({row.date.isoformat() for row, _, _ in entries}),
                "source": {"file": Path(path).name, "sha256": digest, "lines": [row.line for row, _, _ in entries]},
            },
        )
        round_id = entries[0][1].round_id
        params = {"task_id": task_id, "round_id": round_id, "items": codes}
        await notify_departments(
            uow, sorted({i.department_id for _, _, i in entries}), "results_to_review", params, f"task:{task_id}:review:{event.seq}"
        )
    report.imported = len(good)
    return report
