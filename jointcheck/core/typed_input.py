"""Values as people type them, read the same way by the bot and the console.

Everything typed is NFKC-normalised first, so full-width digits and punctuation from a Chinese
input method (８４２９, ２０２６－１２－０１ １０：００, ３％) read as their ASCII forms, and spaces of
any width count as spaces. A value that cannot be read raises InvalidInput with a code and params
that errors/reason.txt explains in the reader's language.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal

from jointcheck.core.errors import InvalidInput

DRAW_FORMAT = "%Y-%m-%d %H:%M"
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")
_RATIO = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(%|‰)?")


def normalized(text: str) -> str:
    """NFKC, stripped: ８４２９ is 8429, an ideographic space is a space."""
    return unicodedata.normalize("NFKC", text or "").strip()


def words(text: str) -> list[str]:
    """Words separated by spaces of any width or by the commas and semicolons of either script."""
    return [word for word in re.split(r"[\s,，、;；]+", normalized(text)) if word]


def parse_ratio(text: str, risk: str = "") -> int:
    """A sampling ratio in per mille: `3%` is 30, `30‰` and a bare `30` are 30 (per mille, as
    the plans and the console always took it)."""
    match = _RATIO.fullmatch(normalized(text))
    if match is None:
        raise InvalidInput(
            f"ratio {text!r} is not a number such as 3% or 30‰", code="ratio.unreadable", params={"text": text, "risk": risk}
        )
    number, unit = Decimal(match.group(1)), match.group(2)
    permille = number * 10 if unit == "%" else number
    if permille != permille.to_integral_value():
        raise InvalidInput(f"ratio {text!r} is finer than one per mille (0.1%)", code="ratio.too_fine", params={"text": text, "risk": risk})
    if not 0 <= permille <= 1000:
        raise InvalidInput(f"ratio {text!r} for class {risk} is above 100%", code="ratio.out_of_range", params={"text": text, "risk": risk})
    return int(permille)


def percent(permille: int) -> str:
    """A per mille ratio as people read it: 30 is `3%`, 35 is `3.5%`."""
    value = Decimal(permille) / 10
    return f"{value.normalize():f}%"


def parse_date(text: str, code: str = "date.unreadable") -> dt.date:
    """A calendar date: 2026-12-31, 2026/12/31, 2026.12.31 or 2026年12月31日."""
    value = normalized(text).replace(" ", "")
    for pattern in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise InvalidInput(f"{text!r} is not a date such as 2026-12-31", code=code, params={"text": text})


def parse_moment(text: str | None, default_tz: dt.tzinfo | None = None) -> dt.datetime | None:
    """An ISO 8601 time (`2026-12-01 10:00` too, and `2026/12/01 10:00`). Files must say their
    time zone, since 10:00 is a different moment in Urumqi; a person typing in chat means China's
    time (`default_tz`)."""
    if not text:
        return None
    value = normalized(text)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        moment = None
        for pattern in (DRAW_FORMAT, "%Y/%m/%d %H:%M"):
            try:
                moment = dt.datetime.strptime(re.sub(r"\s+", " ", value), pattern)
                break
            except ValueError:
                continue
        if moment is None:
            raise InvalidInput(
                f"draw time {text!r} is not a date and time such as 2026-12-01 10:00 (ISO 8601, e.g. 2026-12-01T10:00+08:00)",
                code="draw_at.unreadable",
                params={"text": text},
            ) from None
    if moment.tzinfo is None:
        if default_tz is None:
            raise InvalidInput(
                "the draw time needs a time zone, e.g. 2026-12-01T10:00+08:00", code="draw_at.no_zone", params={"text": text}
            )
        moment = moment.replace(tzinfo=default_tz)
    return moment
