"""Working days in China: official holidays and make-up workdays (调休) from the chinesecalendar
package, which knows the years the State Council has announced. Beyond them a day is a working day
from Monday to Friday, and the log says so once per year."""

from __future__ import annotations

import datetime as dt
import logging
from functools import cache

import chinese_calendar

log = logging.getLogger("jointcheck.workdays")


@cache
def _warn_unknown_year(year: int) -> None:
    log.warning("no official holiday calendar for %s: counting Monday to Friday as working days", year)


def is_working_day(day: dt.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        _warn_unknown_year(day.year)
        return day.weekday() < 5


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date `days` working days after `start` (start itself not counted)."""
    if days < 0:
        raise ValueError("days must be zero or more")
    day = start
    while days:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after `start` up to and including `end` (0 when end is not after start)."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += is_working_day(day)
    return count
