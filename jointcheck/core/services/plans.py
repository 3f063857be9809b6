"""The annual plan (年度抽查计划): one file row per planned joint round, each a proposed round."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from jointcheck.core import limits
from jointcheck.core.authz import Actor
from jointcheck.core.directory_io.readers import read_rows
from jointcheck.core.errors import Conflict, InvalidInput, JointcheckError
from jointcheck.core.models import Plan
from jointcheck.core.regions import is_region_code, region_covers
from jointcheck.core.services.rounds import Proposal, RoundScope, parse_draw_at, propose_round
from jointcheck.core.uow import UnitOfWork

# column → (Chinese header, required)
COLUMNS = {
    "title": ("轮次名称", True),
    "lead": ("牵头部门", True),
    "region": ("行政区划", True),
    "items": ("抽查事项", True),
    "invited": ("参与部门", True),
    "ratios": ("抽查比例", True),
    "lead_team_size": ("牵头部门检查组人数", False),
    "cooling_off": ("间隔期", False),
    "scope_regions": ("范围区划", False),
    "scope_kinds": ("范围对象类型", False),
    "scope_industries": ("范围行业", False),
    "scope_tags": ("范围标签", False),
    "scope_departments": ("范围监管部门", False),
    "batch_size": ("重点事项批次规模", False),
    "draw_at": ("抽取时间", False),
    "due_date": ("完成期限", False),
    "kind": ("轮次类型", False),
}
_BY_HEADER = {key: key for key in COLUMNS} | {zh: key for key, (zh, _) in COLUMNS.items()}


def _list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.replace("；", ";").split(";") if part.strip())


def _column(key: str) -> str:
    return f"{key} ({COLUMNS[key][0]})"


def _is_whole(text: str) -> bool:
    """ASCII digits only: str.isdigit also takes '²', which int() then refuses."""
    return text.isascii() and text.isdigit()


def _pairs(row: dict[str, str], key: str) -> dict[str, int]:
    """'TAX:1;EPB:2' → {'TAX': 1, 'EPB': 2}."""
    out = {}
    for part in _list(row.get(key, "")):
        code, sep, value = part.replace("：", ":").partition(":")
        if not sep or not _is_whole(value.strip()):
            raise ValueError(f"{_column(key)}: {part!r} is not CODE:NUMBER")
        out[code.strip()] = int(value)
    return out


def _whole(row: dict[str, str], key: str, default: int | None = None) -> int | None:
    text = row.get(key) or ""
    if not text:
        return default
    if not _is_whole(text):
        raise ValueError(f"{_column(key)}: {text!r} is not a whole number")
    return int(text)


def _date(row: dict[str, str], key: str) -> dt.date | None:
    text = row.get(key) or ""
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        raise ValueError(f"{_column(key)}: {text!r} is not a date such as 2027-03-31") from None


def _proposal(row: dict[str, str], plan_id: int) -> Proposal:
    return Proposal(
        lead=row["lead"],
        title=row["title"],
        region=row["region"],
        items=_list(row["items"]),
        invited=_pairs(row, "invited"),
        ratios=_pairs(row, "ratios"),
        lead_team_size=_whole(row, "lead_team_size", 1),
        cooling_off_days=_pairs(row, "cooling_off"),
        scope=RoundScope(
            regions=_list(row.get("scope_regions", "")),
            kinds=_list(row.get("scope_kinds", "")),
            industries=_list(row.get("scope_industries", "")),
            tags=_list(row.get("scope_tags", "")),
            departments=_list(row.get("scope_departments", "")),
        ),
        batch_size=_whole(row, "batch_size"),
        draw_at=parse_draw_at(row.get("draw_at")),
        due_date=_date(row, "due_date"),
        kind=row.get("kind") or "regular",
        plan_id=plan_id,
    )


async def import_plan(uow: UnitOfWork, actor: Actor, path: str | Path, *, region: str, year: int, title: str) -> list[int]:
    """Every row becomes a proposed round, or (on any bad row) none does; errors name line and reason."""
    if not is_region_code(region):
        raise InvalidInput(f"region {region!r} is not a 6-digit code")
    title = limits.bounded(title, limits.ROUND_TITLE, "the plan's title", required=True)
    rows = read_rows(Path(path))
    try:
        _, header = next(rows)
    except StopIteration:
        raise InvalidInput("the plan file is empty") from None
    keys = [_BY_HEADER.get(h.strip().lstrip("\ufeff").lower() if h.strip().isascii() else h.strip()) for h in header]
    unknown = [h for h, k in zip(header, keys) if k is None]
    missing = [k for k, (_, required) in COLUMNS.items() if required and k not in keys]
    if unknown or missing:
        raise InvalidInput(
            "; ".join(
                filter(
                    None,
                    [
                        f"unknown columns: {', '.join(unknown)}" if unknown else "",
                        f"missing columns: {', '.join(missing)}" if missing else "",
                    ],
                )
            )
        )
    planned = [(line, {k: c.strip() for k, c in zip(keys, cells)}) for line, cells in rows if any(c.strip() for c in cells)]
    if not planned:
        raise InvalidInput("the plan has no rounds")
    if await uow.plans.find(region, year, title) is not None:
        raise Conflict(f"a plan '{title}' for {region} in {year} exists already")
    plan = await uow.plans.add(Plan(region=region, year=year, title=title))
    created, errors = [], []
    for line, row in planned:
        try:
            if not region_covers(region, row.get("region", "")):
                raise InvalidInput(f"region {row.get('region')!r} is not inside the plan's region {region}")
            async with uow.session.begin_nested():
                created.append((await propose_round(uow, actor, _proposal(row, plan.id))).id)
        except (ValueError, JointcheckError) as exc:
            errors.append(f"line {line}: {exc}")
    if errors:
        await uow.rollback()
        raise InvalidInput("nothing imported:\n" + "\n".join(errors))
    await uow.audit.record(actor, "plan.imported", "plan", plan.id, {"file": Path(path).name, "rounds": created, "year": year})
    return created
