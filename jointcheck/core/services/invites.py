"""One-time invite codes that bind a Telegram account to a role (SPEC section 1)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import string
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from jointcheck.core import limits
from jointcheck.core.authz import Action, Actor, authorize
from jointcheck.core.errors import Conflict, InvalidInput, NotFound
from jointcheck.core.models import Invite, Role, RoleGrant, User
from jointcheck.core.regions import is_region_code
from jointcheck.core.services.departments import department_by_code
from jointcheck.core.uow import UnitOfWork


@dataclass(frozen=True)
class IssuedInvite:
    code: str
    role: Role
    expires_at: dt.datetime

    def link(self, bot_username: str) -> str:
        return f"https://t.me/{bot_username}?start={self.code}"


_ALPHABET = string.ascii_letters + string.digits
# What each role's scope is called, in the refusal of a scope missing or not wanted.
_SCOPE_WORDS = {"department": "department", "region": "region", "inspector": "inspector record"}


def new_code(length: int = 32) -> str:
    """About 190 random bits in letters and digits only: valid in a t.me deep link, and never
    starting with '-', which a command line would take for an option."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def _parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput(f"unknown role {role!r}; expected one of: {', '.join(r.value for r in Role)}") from None


async def issue_invite(
    uow: UnitOfWork,
    actor: Actor,
    role: str,
    *,
    department: str | None = None,
    region: str | None = None,
    inspector: str | None = None,
    ttl_hours: int = 72,
) -> IssuedInvite:
    """Each role needs exactly its own scope: officer a department, convener a region, inspector a record."""
    authorize(actor, Action.INVITE_ISSUE)
    parsed = _parse_role(role)
    needed = {Role.ADMIN: set(), Role.OFFICER: {"department"}, Role.CONVENER: {"region"}, Role.INSPECTOR: {"inspector"}}[parsed]
    given = {name for name, value in (("department", department), ("region", region), ("inspector", inspector)) if value}
    if missing := sorted(needed - given):
        words = " and ".join(("an " if _SCOPE_WORDS[name][0] in "aeiou" else "a ") + _SCOPE_WORDS[name] for name in missing)
        raise InvalidInput(
            f"the {parsed.value} role needs {words}", code="invite.scope_missing", params={"role": parsed.value, "scope": missing}
        )
    if extra := sorted(given - needed):
        words = " or ".join(_SCOPE_WORDS[name] for name in extra)
        raise InvalidInput(
            f"the {parsed.value} role takes no {words}", code="invite.scope_extra", params={"role": parsed.value, "scope": extra}
        )
    if not 1 <= ttl_hours <= 24 * 30:
        raise InvalidInput("an invite lives between 1 hour and 30 days")

    department_id = inspector_id = None
    if department:
        department_id = (await department_by_code(uow, department)).id
    if region and not is_region_code(region):
        raise InvalidInput(f"region {region!r} is not a 6-digit GB/T 2260 code")
    if inspector:
        record = await uow.inspectors.by_cert_no(inspector)
        if record is None:
            raise NotFound(f"no inspector with certificate number {inspector}")
        inspector_id = record.id

    code = new_code()
    now = uow.clock()
    invite = await uow.invites.add(
        Invite(
            code_hash=hash_code(code),
            role=parsed.value,
            department_id=department_id,
            region=region,
            inspector_id=inspector_id,
            created_by=actor.label,
            created_at=now,
            expires_at=now + dt.timedelta(hours=ttl_hours),
        )
    )
    await uow.audit.record(
        actor,
        "invite.issued",
        "invite",
        invite.id,
        {
            "role": parsed.value,
            "department": department,
            "region": region,
            "inspector": inspector,
            "expires_at": invite.expires_at.isoformat(),
        },
    )
    return IssuedInvite(code=code, role=parsed, expires_at=invite.expires_at)


async def redeem_invite(
    uow: UnitOfWork,
    code: str,
    telegram_id: int | None,
    display_name: str,
    language: str | None = None,
    telegram_username: str | None = None,
) -> tuple[User, RoleGrant]:
    """Bind the Telegram account to the invite's role; the code works once and only before it expires.

    With no Telegram id, the invite makes a console user, who acts through the CLI's --as.
    """
    display_name = limits.bounded(display_name, limits.DISPLAY_NAME, "the name")
    invite = await uow.invites.by_code_hash(hash_code(code.strip()))
    if invite is None:
        raise NotFound("this invite code is not valid", code="invite.invalid")
    now = uow.clock()
    if invite.used_at is not None:
        raise Conflict("this invite code has been used already", code="invite.used")
    if invite.expires_at <= now:
        raise Conflict("this invite code has expired", code="invite.expired")

    user = await uow.users.by_telegram_id(telegram_id) if telegram_id is not None else None
    if user is None:
        user = await uow.users.add(telegram_id, display_name, language, telegram_username)
    elif telegram_username:
        user.telegram_username = telegram_username  # the console's --as finds them by it
    role = Role(invite.role)
    if invite.inspector_id is not None:
        holder = await uow.users.inspector_holder(invite.inspector_id)
        if holder is not None and holder != user.id:
            raise Conflict("this inspector record is bound to another account", code="invite.inspector_taken")
    for existing in await uow.users.grants_of(user.id):
        same = (existing.role, existing.department_id, existing.region, existing.inspector_id)
        if same == (role.value, invite.department_id, invite.region, invite.inspector_id):
            raise Conflict("this account holds that role already", code="invite.role_held")

    # Compare-and-set: of two simultaneous redemptions exactly one changes the row.
    claimed = await uow.session.execute(
        update(Invite).where(Invite.id == invite.id, Invite.used_at.is_(None)).values(used_at=now, used_by_user_id=user.id)
    )
    if claimed.rowcount != 1:
        raise Conflict("this invite code has been used already", code="invite.used")
    try:
        grant = await uow.users.add_grant(user.id, role, invite.department_id, invite.region, invite.inspector_id)
    except IntegrityError:  # another account bound this inspector record a moment ago
        raise Conflict("this inspector record is bound to another account", code="invite.inspector_taken") from None
    actor = await uow.users.actor_for(user)
    await uow.audit.record(
        actor,
        "invite.redeemed",
        "user",
        user.id,
        {
            "invite": invite.id,
            "role": role.value,
            "department_id": invite.department_id,
            "region": invite.region,
            "inspector_id": invite.inspector_id,
        },
    )
    return user, grant
