"""`jointcheck search targets|inspectors …`: the directories as the acting user (`--as`) may see
them, a page at a time. Core decides what is visible (core/services/directory_search.py, rule
directory.view): an officer their department's targets and inspectors, a convener everything in
their jurisdiction; anyone else, the console's operator too, is refused."""

from __future__ import annotations

from jointcheck.cli.context import actor_for, add_actor_option, new_uow, open_database
from jointcheck.core.services.directory_search import MAX_PAGE, InspectorQuery, TargetQuery, search_inspectors, search_targets

TARGET_COLUMNS = ("id", "code", "name", "kind", "region", "industry", "risk", "departments", "tags", "status")
INSPECTOR_COLUMNS = ("id", "cert_no", "name", "department", "kind", "region", "skills", "status")


def register(commands) -> None:
    parser = commands.add_parser("search", help="search the target or inspector directory, a page at a time")
    sub = parser.add_subparsers(dest="search_command", required=True, metavar="DIRECTORY")

    p = sub.add_parser("targets", help="targets you may see")
    p.add_argument("--code", help="code or credit code starting with this")
    p.add_argument("--name", help="name containing this")
    p.add_argument("--region", help="this region and every region inside it (6 digits)")
    p.add_argument("--tag", action="append", default=[], help="carrying this tag (repeat: all of them)")
    p.add_argument("--risk", help="in any of these risk classes, e.g. A,B")
    p.add_argument("--department", help="supervised by this department (code)")
    p.add_argument("--include-deregistered", action="store_true", help="deregistered targets too")
    p.set_defaults(handler=targets_command)

    p = sub.add_parser("inspectors", help="inspectors you may see")
    p.add_argument("--cert-no", help="certificate number starting with this")
    p.add_argument("--name", help="name containing this")
    p.add_argument("--department", help="of this department (code)")
    p.add_argument("--skill", help="holding this skill")
    p.set_defaults(handler=inspectors_command)

    for action in sub.choices.values():
        action.add_argument("--after", type=int, metavar="ID", help="the page after this id (printed at the end of the previous page)")
        action.add_argument("--limit", type=int, default=20, help=f"rows per page (1 to {MAX_PAGE}, default 20)")
        add_actor_option(action)


def _print_page(columns: tuple[str, ...], rows: list[tuple], next_after: int | None, what: str) -> None:
    print("\t".join(columns))
    for row in rows:
        print("\t".join("" if value is None else str(value) for value in row))
    more = f"; next page: --after {next_after}" if next_after is not None else ""
    print(f"{len(rows)} {what}{more}" if rows else f"no {what} found")


async def targets_command(args, settings) -> int:
    query = TargetQuery(
        code=args.code,
        name=args.name,
        region=args.region,
        tags=tuple(args.tag),
        risk=tuple(r.strip() for r in (args.risk or "").split(",") if r.strip()),
        department=args.department,
        include_deregistered=args.include_deregistered,
    )
    async with open_database(settings) as sessionmaker, new_uow(sessionmaker) as uow:
        page = await search_targets(uow, await actor_for(uow, args.as_user), query, after=args.after, limit=args.limit)
        rows = [tuple(getattr(t, column) for column in TARGET_COLUMNS) for t in page.items]
    _print_page(TARGET_COLUMNS, rows, page.next_after, "targets")
    return 0


async def inspectors_command(args, settings) -> int:
    query = InspectorQuery(cert_no=args.cert_no, name=args.name, department=args.department, skill=args.skill)
    async with open_database(settings) as sessionmaker, new_uow(sessionmaker) as uow:
        page = await search_inspectors(uow, await actor_for(uow, args.as_user), query, after=args.after, limit=args.limit)
        rows = [(i.id, i.cert_no, i.name, department, i.kind, i.region, i.skills, i.status) for i, department in page.items]
    _print_page(INSPECTOR_COLUMNS, rows, page.next_after, "inspectors")
    return 0
