"""The State Council's yearly holiday notice (国务院办公厅关于某年部分节假日安排的通知), imported by the
operator: which days are holidays and which weekend days are worked (调休上班).

The file is CSV or XLSX with three columns, headers in English or Chinese: `date` (日期), `kind`
(类型: holiday / 放假, or workday / 上班) and `name` (名称, e.g. 春节). Each year in the file
replaces what was imported for that year before. A bad row names its line, column and reason;
then nothing is imported.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass

from jointcheck.core.authz import Action, Actor, authorize
from jointcheck.core.directory_io.readers import read_rows
from jointcheck.core.errors import InvalidInput, JointcheckError, Problems
from jointcheck.core.typed_input import normalized, parse_date
from jointcheck.core.uow import UnitOfWork

COLUMNS = {"date": "date", "日期": "date", "kind": "kind", "类型": "kind", "name": "name", "名称": "name"}
KIND_WORDS = {"holiday": "holiday", "放假": "holiday", "休": "holiday", "workday": "workday", "上班": "workday", "班": "workday"}
NAME_CHARS = 100
MAX_PROBLEMS = 20  # a file wrong throughout is told by its first rows


@dataclass(frozen=True)
class HolidayImport:
    years: list[int]
    holidays: int
    workdays: int


def _problem(line: int, column: str, reason: str) -> InvalidInput:
    return InvalidInput(f"line {line}, column {column}: {reason}")


def read_notice(path: str | os.PathLike) -> list[tuple[dt.date, str, str]]:
    """The rows of a notice file as (date, holiday|workday, name); every problem at once."""
    rows = read_rows(path)
    header = next(rows, None)
    if header is None:
        raise InvalidInput("the file is empty: expected the columns date, kind, name (日期, 类型, 名称)")
    columns = [COLUMNS.get(normalized(cell).lower()) for cell in header[1]]
    missing = [name for name in ("date", "kind") if name not in columns]
    if missing:
        raise InvalidInput(f"line 1: the columns {', '.join(missing)} are missing: expected date, kind, name (日期, 类型, 名称)")
    problems: list[JointcheckError] = []
    found: list[tuple[dt.date, str, str]] = []
    seen: dict[dt.date, int] = {}
    for line, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        row = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(columns) if name}
        try:
            day = parse_date(row["date"])
        except InvalidInput:
            problems.append(_problem(line, "date", f"{row['date']!r} is not a date such as 2027-02-06"))
            day = None
        kind = KIND_WORDS.get(normalized(row["kind"]).lower())
        if kind is None:
            problems.append(_problem(line, "kind", f"{row['kind']!r} is neither holiday (放假) nor workday (上班)"))
        name = row.get("name", "")
        if len(name) > NAME_CHARS:
            problems.append(_problem(line, "name", f"at most {NAME_CHARS} characters"))
        if day is not None and kind == "workday" and day.weekday() < 5:
            problems.append(
                _problem(line, "kind", f"{day.isoformat()} is a weekday, worked anyway: a make-up workday is a Saturday or Sunday")
            )
        if day is not None and day in seen:
            problems.append(_problem(line, "date", f"{day.isoformat()} is listed already on line {seen[day]}"))
        if day is not None and kind is not None:
            seen.setdefault(day, line)
            found.append((day, kind, name))
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise Problems(problems)
    if not found:
        raise InvalidInput("the file lists no day")
    return found


async def import_holidays(uow: UnitOfWork, actor: Actor, rows: list[tuple[dt.date, str, str]]) -> HolidayImport:
    """Each year of `rows` becomes exactly what they say; deadlines in those years count by it."""
    authorize(actor, Action.CALENDAR_IMPORT)
    years = sorted({day.year for day, _, _ in rows})
    await uow.official_days.replace_years(years, rows)
    canonical = "\n".join(f"{day.isoformat()}\t{kind}\t{name}" for day, kind, name in sorted(rows)).encode()
    result = HolidayImport(years, sum(kind == "holiday" for _, kind, _ in rows), sum(kind == "workday" for _, kind, _ in rows))
    await uow.audit.record(
        actor,
        "calendar.imported",
        "calendar",
        years[0],
        {"years": years, "holidays": result.holidays, "workdays": result.workdays, "sha256": hashlib.sha256(canonical).hexdigest()},
    )
    return result
