"""Users, their role grants, and invites."""

from __future__ import annotations

from functools import cache

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from jointcheck.core.authz import Actor, Grant
from jointcheck.core.models import Department, Inspector, Invite, Role, RoleGrant, User
from jointcheck.core.regions import region_covers


class UserRepository:
    def __init__(self, session: AsyncSession):
        self._session = session

    async def by_telegram_id(self, telegram_id: int) -> User | None:
        return (await self._session.execute(select(User).where(User.telegram_id == telegram_id))).scalar_one_or_none()

    async def language_of_chat(self, chat_id: int) -> str | None:
        """The stored language of the user whose Telegram id is this (private) chat, if any."""
        query = select(User.language).where(User.telegram_id == chat_id)
        return (await self._session.execute(query)).scalar_one_or_none()

    async def matching(self, who: str, limit: int = 10) -> list[User]:
        """Users whose id, Telegram @username (case aside) or name is `who`."""
        clauses = [User.display_name == who, func.lower(User.telegram_username) == who.removeprefix("@").lower()]
        if who.isdigit():
            clauses.append(User.id == int(who))
        query = select(User).where(or_(*clauses)).order_by(User.id).limit(limit)
        return list((await self._session.execute(query)).scalars())

    async def with_grants(self, offset: int, limit: int) -> list[tuple[User, list[tuple[RoleGrant, str | None, str | None]]]]:
        """A page of users by id, each with their live grants and the grant's department code and
        inspector certificate number."""
        users = list((await self._session.execute(select(User).order_by(User.id).offset(offset).limit(limit))).scalars())
        query = (
            select(RoleGrant, Department.code, Inspector.cert_no)
            .outerjoin(Department, Department.id == RoleGrant.department_id)
            .outerjoin(Inspector, Inspector.id == RoleGrant.inspector_id)
            .where(RoleGrant.user_id.in_([u.id for u in users]), RoleGrant.revoked_at.is_(None))
            .order_by(RoleGrant.id)
        )
        grants: dict[int, list] = {}
        for grant, department, cert in await self._session.execute(query):
            grants.setdefault(grant.user_id, []).append((grant, department, cert))
        return [(u, grants.get(u.id, [])) for u in users]

    async def add(
        self, telegram_id: int | None, display_name: str, language: str | None = None, telegram_username: str | None = None
    ) -> User:
        user = User(telegram_id=telegram_id, display_name=display_name, language=language, telegram_username=telegram_username)
        self._session.add(user)
        await self._session.flush()
        return user

    async def grants_of(self, user_id: int) -> list[RoleGrant]:
        query = select(RoleGrant).where(RoleGrant.user_id == user_id, RoleGrant.revoked_at.is_(None)).order_by(RoleGrant.id)
        return list((await self._session.execute(query)).scalars())

    async def add_grant(self, user_id: int, role: Role, department_id=None, region=None, inspector_id=None) -> RoleGrant:
        grant = RoleGrant(user_id=user_id, role=role.value, department_id=department_id, region=region, inspector_id=inspector_id)
        self._session.add(grant)
        await self._session.flush()
        return grant

    async def inspector_holder(self, inspector_id: int) -> int | None:
        """The user already bound to this inspector record, if any."""
        query = select(RoleGrant.user_id).where(
            RoleGrant.inspector_id == inspector_id, RoleGrant.role == Role.INSPECTOR.value, RoleGrant.revoked_at.is_(None)
        )
        return (await self._session.execute(query)).scalars().first()

    async def officer_chats(self, department_ids: list[int]) -> list[tuple[int, int]]:
        """(user id, Telegram chat id) of every officer of these departments who has Telegram."""
        return [(u, t) for u, t in await self._session.execute(_officer_chats(), {"ids": list(department_ids)})]

    async def convener_chats(self, region: str) -> list[tuple[int, int]]:
        """(user id, Telegram chat id) of every convener whose jurisdiction covers this region."""
        query = (
            select(User.id, User.telegram_id, RoleGrant.region)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(RoleGrant.role == Role.CONVENER.value, RoleGrant.revoked_at.is_(None), User.telegram_id.is_not(None))
            .order_by(User.id)
        )
        chats = {u: t for u, t, covers in await self._session.execute(query) if covers and region_covers(covers, region)}
        return sorted(chats.items())

    async def inspector_chats(self, inspector_ids: list[int]) -> list[tuple[int, int]]:
        """(inspector id, Telegram chat id) of the accounts bound to these inspector records."""
        return [(i, t) for i, t in await self._session.execute(_inspector_chats(), {"ids": list(inspector_ids)})]

    async def inspectors_of_chat(self, chat_id: int) -> list[tuple[str, int]]:
        """(name, department id) of the inspector records bound to the account of this private chat:
        whose officers answer for the person behind it."""
        query = (
            select(Inspector.name, Inspector.department_id)
            .join(RoleGrant, RoleGrant.inspector_id == Inspector.id)
            .join(User, User.id == RoleGrant.user_id)
            .where(User.telegram_id == chat_id, RoleGrant.role == Role.INSPECTOR.value, RoleGrant.revoked_at.is_(None))
            .order_by(Inspector.id)
        )
        return [(name, department_id) for name, department_id in await self._session.execute(query)]

    async def actor_for(self, user: User) -> Actor:
        return _actor(user, [Grant(Role(g.role), g.department_id, g.region, g.inspector_id) for g in await self.grants_of(user.id)])

    async def with_actor(self, telegram_id: int) -> tuple[User, Actor] | None:
        """The user of this Telegram account and their Actor, in one query (the bot asks on every update)."""
        rows = (await self._session.execute(_with_actor(), {"telegram_id": telegram_id})).all()
        if not rows:
            return None
        user = rows[0][0]
        return user, _actor(user, [Grant(Role(role), d, region, i) for _, role, d, region, i in rows if role is not None])


# The bot runs these on nearly every update: each statement is built once, with bound parameters,
# because building one costs more than SQLite takes to run it.


@cache
def _with_actor():
    return (
        select(User, RoleGrant.role, RoleGrant.department_id, RoleGrant.region, RoleGrant.inspector_id)
        .outerjoin(RoleGrant, and_(RoleGrant.user_id == User.id, RoleGrant.revoked_at.is_(None)))
        .where(User.telegram_id == bindparam("telegram_id"))
        .order_by(RoleGrant.id)
    )


@cache
def _officer_chats():
    return (
        select(User.id, User.telegram_id)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(
            RoleGrant.role == Role.OFFICER.value,
            RoleGrant.department_id.in_(bindparam("ids", expanding=True)),
            RoleGrant.revoked_at.is_(None),
            User.telegram_id.is_not(None),
        )
        .distinct()
        .order_by(User.id)
    )


@cache
def _inspector_chats():
    return (
        select(RoleGrant.inspector_id, User.telegram_id)
        .join(User, User.id == RoleGrant.user_id)
        .where(
            RoleGrant.role == Role.INSPECTOR.value,
            RoleGrant.inspector_id.in_(bindparam("ids", expanding=True)),
            RoleGrant.revoked_at.is_(None),
            User.telegram_id.is_not(None),
        )
        .order_by(RoleGrant.inspector_id)
    )


def _actor(user: User, grants: list[Grant]) -> Actor:
    label = f"user:{user.id}" + (f"/tg:{user.telegram_id}" if user.telegram_id is not None else "")
    return Actor(label=label, grants=tuple(grants), user_id=user.id)


class InviteRepository:
    def __init__(self, session: AsyncSession):
        self._session = session

    async def by_code_hash(self, code_hash: str, for_update: bool = False) -> Invite | None:
        query = select(Invite).where(Invite.code_hash == code_hash)
        if for_update:
            query = query.with_for_update()
        return (await self._session.execute(query)).scalar_one_or_none()

    async def add(self, invite: Invite) -> Invite:
        self._session.add(invite)
        await self._session.flush()
        return invite
