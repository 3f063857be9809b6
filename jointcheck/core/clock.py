"""Time, injectable so tests can move it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def iso_utc(value: dt.datetime) -> str:
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# Dates of the domain (cooling-off days, due dates, working days) are dates in China.
DOMAIN_TZ = ZoneInfo("Asia/Shanghai")


def local_date(value: dt.datetime) -> dt.date:
    return as_utc(value).astimezone(DOMAIN_TZ).date()
