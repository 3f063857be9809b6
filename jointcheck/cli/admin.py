"""`jointcheck admin …`: bootstrap by the operator (departments, invites, console users), the list
of users to act as, and the official holiday calendar."""

from __future__ import annotations

from jointcheck.cli.context import new_uow, open_database, operator_actor
from jointcheck.core.errors import InvalidInput
from jointcheck.core.services.departments import add_department, add_department_alias
from jointcheck.core.services.holidays import import_holidays, read_notice
from jointcheck.core.services.invites import issue_invite, redeem_invite
from jointcheck.core.services.users import list_users


def register(commands) -> None:
    parser = commands.add_parser("admin", help="platform bootstrap: departments, invites, users, holidays")
    sub = parser.add_subparsers(dest="admin_command", required=True, metavar="ACTION")

    dept = sub.add_parser("department", help="departments")
    dept_sub = dept.add_subparsers(dest="department_command", required=True, metavar="ACTION")
    add = dept_sub.add_parser("add", help="add a department")
    add.add_argument("code", help="a short code, e.g. SAMR")
    add.add_argument("name", help="the name people know it by, e.g. 市场监督管理局")
    add.set_defaults(handler=department_add)
    alias = dept_sub.add_parser("alias", help="another name of a department, as registers write it (市场监管局 for SCJG)")
    alias.add_argument("code", help="the department's code, e.g. SCJG")
    alias.add_argument("alias", help="the other name, as a register writes it, e.g. 市场监管局")
    alias.set_defaults(handler=department_alias)

    invite = sub.add_parser("invite", help="print a one-time invite code and its t.me link")
    invite.add_argument("--role", required=True, help="admin, convener, officer or inspector")
    invite.add_argument("--department", help="department code (officer)")
    invite.add_argument("--region", help="6-digit region code (convener)")
    invite.add_argument("--inspector", metavar="CERT_NO", help="inspector certificate number (inspector)")
    invite.add_argument("--ttl-hours", type=int, default=None, help="hours until the code expires")
    invite.set_defaults(handler=invite_issue)

    user = sub.add_parser("redeem", help="redeem an invite for a console user (no Telegram account); prints the user id for --as")
    user.add_argument("code", help="the invite code `admin invite` printed")
    user.add_argument("--name", required=True, help="the person's name, usable with --as")
    user.set_defaults(handler=console_user)

    users = sub.add_parser("users", help="every account with its roles: the ids, @usernames and names --as takes")
    users.add_argument("--offset", type=int, default=0, help="skip this many (for the next page)")
    users.add_argument("--limit", type=int, default=100, help="at most this many (1 to 1000, default 100)")
    users.set_defaults(handler=users_list)

    holidays = sub.add_parser("holidays", help="the official holiday calendar deadlines are counted with")
    holidays_sub = holidays.add_subparsers(dest="holidays_command", required=True, metavar="ACTION")
    imp = holidays_sub.add_parser(
        "import", help="import the State Council's yearly holiday notice; each year in the file replaces that year's days"
    )
    imp.add_argument("file", help="CSV or XLSX with the columns date, kind (holiday|workday), name; or 日期, 类型 (放假|上班), 名称")
    imp.set_defaults(handler=holidays_import)


async def department_add(args, settings) -> int:
    async with open_database(settings) as sessionmaker, new_uow(sessionmaker) as uow:
        department = await add_department(uow, operator_actor(), args.code, args.name)
        await uow.commit()
    print(f"department {department.code} added: {department.name}")
    return 0


async def department_alias(args, settings) -> int:
    async with open_database(settings) as sessionmaker, new_uow(sessionmaker) as uow:
        department = await add_department_alias(uow, operator_actor(), args.code, args.alias)
        await uow.commit()
    print(f"department {department.code} ({department.name}) may be written {args.alias} in imports")
    return 0


async def invite_issue(args, settings) -> int:
    ttl = args.ttl_hours if args.ttl_hours is not None else settings.invite_ttl_hours
    async with open_database(settings) as sessionmaker, new_uow(sessionmaker) as uow:
        try:
            issued = await issue_invite(
                uow,
                operator_actor(),
                args.role,
                department=args.department,
                region=args.region,
                inspector=args.inspector,
                ttl_hours=ttl,
            )
        except InvalidInput as error:
            raise _with_options(error) from None
        await uow.commit()
    print(issued.code)
    print(issued.link(settings.bot_username))
    print(f"single use, expires {issued.expires_at.isoformat(timespec='minutes')}")
    return 0


def _with_options(error: InvalidInput) -> InvalidInput:
    """Core names a role's scope in words; at the console, the options that give it."""
    options = " ".join(f"--{name}" for name in error.params.get("scope", ()))
    if error.code == "invite.scope_missing":
        return InvalidInput(f"{error} (give {options})", code=error.code, params=error.params)
    if error.code == "invite.scope_extra":
        return InvalidInput(f"{error} (leave out {options})", code=error.code, params=error.params)
    return error


async def console_user(args, settings) -> int:
    async with open_database(settings) as sessionmaker, new_uow(sessionmaker) as uow:
        user, grant = await redeem_invite(uow, args.code, None, args.name)
        await uow.commit()
    print(f"user {user.id} ({args.name}) holds the {grant.role} role; act as them with --as {user.id}")
    return 0


async def users_list(args, settings) -> int:
    async with open_database(settings) as sessionmaker, new_uow(sessionmaker) as uow:
        entries = await list_users(uow, operator_actor(), offset=args.offset, limit=args.limit)
    for e in entries:
        username = f"@{e.telegram_username}" if e.telegram_username else ("(Telegram)" if e.has_telegram else "(console)")
        print(f"{e.user_id}\t{e.name}\t{username}\t{', '.join(e.roles) or 'no role'}")
    print(f"{len(entries)} users from offset {args.offset}" if entries else f"no user from offset {args.offset}")
    return 0


async def holidays_import(args, settings) -> int:
    rows = read_notice(args.file)  # every bad row is named before the database is opened
    async with open_database(settings) as sessionmaker, new_uow(sessionmaker) as uow:
        done = await import_holidays(uow, operator_actor(), rows)
        await uow.commit()
    years = ", ".join(str(y) for y in done.years)
    print(f"holidays of {years} imported: {done.holidays} holidays, {done.workdays} make-up workdays")
    return 0
