"""`jointcheck plan import FILE`: the annual plan's rows become proposed rounds."""

from __future__ import annotations

from jointcheck.cli.context import actor_for, add_actor_option, new_uow, open_database
from jointcheck.core.services.plans import import_plan


def register(commands) -> None:
    parser = commands.add_parser("plan", help="annual plans")
    sub = parser.add_subparsers(dest="plan_command", required=True, metavar="ACTION")
    p = sub.add_parser("import", help="create one proposed round per row of a CSV/XLSX plan")
    p.add_argument("file", help="the plan: a CSV or XLSX file of planned rounds")
    p.add_argument("--region", required=True, help="the plan's jurisdiction")
    p.add_argument("--year", type=int, required=True, help="the year the plan covers")
    p.add_argument("--title", required=True, help="the plan's name")
    add_actor_option(p)
    p.set_defaults(handler=import_command)


async def import_command(args, settings) -> int:
    async with open_database(settings) as sessionmaker, new_uow(sessionmaker) as uow:
        actor = await actor_for(uow, args.as_user)
        created = await import_plan(uow, actor, args.file, region=args.region, year=args.year, title=args.title)
        await uow.commit()
    print(f"{len(created)} rounds proposed: {', '.join(map(str, created))}")
    return 0
