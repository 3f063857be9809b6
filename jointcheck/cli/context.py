"""What every CLI command needs: settings, an engine whose schema is current, the operator actor."""

from __future__ import annotations

import getpass
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from jointcheck.config import Settings
from jointcheck.core.authz import Actor
from jointcheck.core.db import make_engine, make_sessionmaker
from jointcheck.core.errors import JointcheckError
from jointcheck.core.migrate import current_revision, head_revision
from jointcheck.core.services.users import actor_of, find_user
from jointcheck.core.uow import UnitOfWork


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def operator_actor() -> Actor:
    try:
        who = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        who = "unknown"
    return Actor.operator(f"cli:{who}")


@asynccontextmanager
async def open_database(settings: Settings, **engine_options):
    """Yield a sessionmaker, refusing to work on a database whose schema is not at head."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).parent.is_dir():
        raise JointcheckError(f"database {safe_url(settings.database_url)}: the folder {Path(url.database).parent} does not exist")
    engine = make_engine(settings.database_url, **engine_options)
    try:
        current = await current_revision(engine)
        head = head_revision(settings.database_url)
        if current != head:
            raise JointcheckError(
                f"database {safe_url(settings.database_url)} is at schema {current or 'none'}, "
                f"this version needs {head}: run `jointcheck db upgrade`"
            )
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


def new_uow(sessionmaker) -> UnitOfWork:
    return UnitOfWork(sessionmaker)


def add_actor_option(parser) -> None:
    parser.add_argument(
        "--as",
        dest="as_user",
        metavar="USER",
        help="act as this user, with their roles: a user id, a Telegram @username or a name, as `jointcheck admin users` "
        "lists them (default: the operator at the console, an admin)",
    )


async def actor_for(uow: UnitOfWork, who: str | None) -> Actor:
    if who is None:
        return operator_actor()
    return await actor_of(uow, await find_user(uow, operator_actor(), str(who)))
