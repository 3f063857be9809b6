"""Working days in China: official holidays and make-up workdays (调休).

Two sources, in order: the State Council's yearly notices as the operator imported them (a
`Calendar`, loaded once per unit of work and passed in, so this module stays pure), then the
chinesecalendar package, which knows the years announced before its release. A year neither
knows is counted Monday to Friday; `unknown_years` names such years so that whoever is shown a
deadline in one can be told it is a guess, and the log says so once per year.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

import chinese_calendar

log = logging.getLogger("jointcheck.workdays")

KINDS = ("holiday", "workday")


@dataclass(frozen=True)
class Calendar:
    """Imported official days: each a holiday (not worked) or a make-up workday (worked), and the
    years whose notice was imported (every other day of such a year is worked Monday to Friday)."""

    days: dict[dt.date, bool] = field(default_factory=dict)  # date → is a working day
    years: frozenset[int] = frozenset()

    @classmethod
    def of(cls, rows: Iterable[tuple[dt.date, str]]) -> Calendar:
        days = {day: kind == "workday" for day, kind in rows}
        return cls(days, frozenset(day.year for day in days))


NO_IMPORTS = Calendar()


@cache
def _library_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@cache
def _warn_unknown_year(year: int) -> None:
    log.warning(
        "no official holiday calendar for %s: counting Monday to Friday as working days (import the State Council's notice "
        "with `jointcheck admin holidays import`)",
        year,
    )


def knows(year: int, calendar: Calendar = NO_IMPORTS) -> bool:
    return year in calendar.years or _library_knows(year)


def unknown_years(start: dt.date, end: dt.date, calendar: Calendar = NO_IMPORTS) -> list[int]:
    """The years from `start` to `end` whose working days are a Monday-to-Friday guess."""
    low, high = sorted((start.year, end.year))
    return [year for year in range(low, high + 1) if not knows(year, calendar)]


def is_working_day(day: dt.date, calendar: Calendar = NO_IMPORTS) -> bool:
    if day in calendar.days:
        return calendar.days[day]
    if day.year in calendar.years:
        return day.weekday() < 5
    if _library_knows(day.year):
        return chinese_calendar.is_workday(day)
    _warn_unknown_year(day.year)
    return day.weekday() < 5


def add_working_days(start: dt.date, days: int, calendar: Calendar = NO_IMPORTS) -> dt.date:
    """The date `days` working days after `start` (start itself not counted)."""
    if days < 0:
        raise ValueError("days must be zero or more")
    day = start
    while days:
        day += dt.timedelta(days=1)
        if is_working_day(day, calendar):
            days -= 1
    return day


def working_days_between(start: dt.date, end: dt.date, calendar: Calendar = NO_IMPORTS) -> int:
    """Working days after `start` up to and including `end` (0 when end is not after start)."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += is_working_day(day, calendar)
    return count
