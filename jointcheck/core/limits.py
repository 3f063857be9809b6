"""How long each field a person types may be: one limit per field, for every adapter and the database.

Core services check them (`bounded`) before anything is stored, so the bot's wizard, the console,
plan import and every later adapter refuse the same text with the same reason; the models take
their column lengths from here, so PostgreSQL and SQLite hold what core lets through and nothing
more. A limit also keeps what the bot shows of a field well inside one Telegram message.
"""

from __future__ import annotations

from jointcheck.core.errors import InvalidInput

ROUND_TITLE = 300  # a round's, and a plan's, title
DEPARTMENT_NAME = 200
DISPLAY_NAME = 200  # a user's name: Telegram's first and last name, or a console user's
NOTE = 2000  # an inspector's note on a result
REASON = 2000  # why: results returned by review, a manual team member, a conflict of interest
SEED_DIGITS = 200


def bounded(value: str, limit: int, what: str, *, required: bool = False) -> str:
    """`value` without surrounding blanks; refused when empty (if required) or over `limit` characters."""
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"{what} is empty")
    if len(value) > limit:
        raise InvalidInput(f"{what} has at most {limit} characters (this one has {len(value)})")
    return value
