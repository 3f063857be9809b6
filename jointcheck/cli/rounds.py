"""`jointcheck round …`: the chat's round workflow from the console, acting as a named user."""

from __future__ import annotations

import json

from jointcheck.cli.context import actor_for, add_actor_option, new_uow, open_database
from jointcheck.core.clock import DOMAIN_TZ
from jointcheck.core.errors import InvalidInput
from jointcheck.core.filestore import FileStore
from jointcheck.core.regions import region_label
from jointcheck.core.services.archive import archive_round
from jointcheck.core.services.draw import run_draw, short_teams, staff_by_hand
from jointcheck.core.services.rounds import (
    Proposal,
    RoundScope,
    approve_round,
    enter_seed,
    joint_item_invitations,
    list_rounds,
    parse_draw_at,
    propose_round,
    respond_to_round,
    round_detail,
    schedule_draw,
)
from jointcheck.core.typed_input import normalized, parse_date, parse_ratio, percent


def _csv(text: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (text or "").split(",") if p.strip())


def _pairs(values: list[str] | None, what: str) -> dict[str, int]:
    out = {}
    for value in values or ():
        key, sep, number = normalized(value).partition("=")
        if not sep or not number.strip().isdigit():
            raise InvalidInput(f"--{what} takes KEY=NUMBER, got {value!r}")
        out[key.strip()] = int(number)
    return out


def _ratios(values: list[str]) -> dict[str, int]:
    """CLASS=3% (percent), CLASS=30‰ or CLASS=30 (per mille) → per mille."""
    out = {}
    for value in values:
        key, sep, ratio = normalized(value).partition("=")
        if not sep:
            raise InvalidInput(f"--ratio takes CLASS=RATIO such as A=3%, got {value!r}")
        out[key.strip().upper()] = parse_ratio(ratio, key.strip().upper())
    return out


def register(commands) -> None:
    parser = commands.add_parser(
        "round", help="joint rounds: list, show, propose, confirm, decline, approve, seed, schedule, draw, unstaffed, staff, archive"
    )
    sub = parser.add_subparsers(dest="round_command", required=True, metavar="ACTION")

    p = sub.add_parser("list", help="rounds you may see")
    p.add_argument("--status", help="only rounds in this state: proposed, approved, seeded, drawn, ...")
    p.set_defaults(handler=list_command)

    p = sub.add_parser("show", help="one round")
    p.add_argument("round", type=int, help="the round's number")
    p.set_defaults(handler=show_command)

    p = sub.add_parser("propose", help="propose a joint round as the lead department's officer")
    p.add_argument("--lead", required=True, help="lead department code")
    p.add_argument("--title", help="the round's title, as participants will read it (by default the joint item's name)")
    p.add_argument("--region", required=True, help="the convening jurisdiction (6 digits, GB/T 2260)")
    p.add_argument("--items", required=True, help="comma-separated item codes of the lead")
    p.add_argument("--invite", action="append", default=[], metavar="DEPT=TEAM", help="invited department and its team size (repeat)")
    p.add_argument("--joint-item", metavar="CODE", help="propose from this entry of the joint item list, inviting the departments it names")
    p.add_argument(
        "--ratio",
        action="append",
        required=True,
        metavar="CLASS=RATIO",
        help="sampling ratio of a risk class A-D, or U for unclassified targets, in percent or per mille: A=3%%, A=30‰ or A=30 (per mille) (repeat)",
    )
    p.add_argument("--team", type=int, default=1, help="the lead's team size")
    p.add_argument("--cooling-off", action="append", metavar="CLASS=DAYS", help="days a risk class's inspected targets rest (repeat)")
    p.add_argument("--scope-regions", metavar="CODES", help="comma-separated districts inside --region to draw from")
    p.add_argument("--scope-kinds", metavar="KINDS", help="comma-separated kinds: enterprise, individual, product, project, behaviour")
    p.add_argument("--scope-industries", metavar="CODES", help="comma-separated GB/T 4754 industry codes, e.g. F51")
    p.add_argument("--scope-tags", metavar="TAGS", help="comma-separated tags a target must carry")
    p.add_argument("--scope-departments", metavar="CODES", help="comma-separated departments responsible for the targets")
    p.add_argument(
        "--scope-case-sources", help="special rounds: the targets of recent cases of these kinds (complaint,referral,monitoring)"
    )
    p.add_argument("--scope-case-days", type=int, default=365, help="how many days back a case counts (default 365)")
    p.add_argument("--stratify-by-region", action="store_true", help="draw each district's share separately")
    p.add_argument("--batch-size", type=int, help="split the drawn tasks into batches of this many")
    p.add_argument("--draw-at", help="ISO time with zone, e.g. 2027-03-01T10:00+08:00; it must lie ahead")
    p.add_argument("--due", help="due date, YYYY-MM-DD; not before the draw")
    p.add_argument("--special", action="store_true", help="a special (专项) round")
    p.set_defaults(handler=propose_command)

    for name, helptext in (("confirm", "join a round as an invited department"), ("decline", "decline an invitation")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("round", type=int, help="the round's number")
        p.add_argument("--department", required=True, help="your department's code")
        if name == "confirm":
            p.add_argument("--items", required=True, help="comma-separated item codes of your department")
        p.set_defaults(handler=respond_command, accept=name == "confirm")

    p = sub.add_parser("approve", help="approve and freeze (convener)")
    p.add_argument("round", type=int, help="the round's number")
    p.set_defaults(handler=approve_command)

    p = sub.add_parser("seed", help="enter the public seed digits (convener)")
    p.add_argument("round", type=int, help="the round's number")
    p.add_argument("digits", help="20 to 200 decimal digits; spaces of any width are removed, full-width digits read as ASCII")
    p.set_defaults(handler=seed_command)

    p = sub.add_parser("schedule", help="set or move the time of the draw (convener); the scheduler runs it once seeded")
    p.add_argument("round", type=int, help="the round's number")
    p.add_argument("when", help="ISO time, e.g. 2026-12-01T10:00+08:00 (China's time when no zone is given)")
    p.set_defaults(handler=schedule_command)

    p = sub.add_parser("draw", help="run the draw, once (convener)")
    p.add_argument("round", type=int, help="the round's number")
    p.set_defaults(handler=draw_command)

    p = sub.add_parser("staff", help="put an inspector on a task's team by hand, with a reason")
    p.add_argument("task", type=int, help="the task's number")
    p.add_argument("--department", required=True, help="the department whose team is short")
    p.add_argument("--inspector", required=True, metavar="CERT_NO", help="the inspector's certificate number")
    p.add_argument("--reason", required=True, help="why this inspector, for the audit trail")
    p.set_defaults(handler=staff_command)

    p = sub.add_parser("unstaffed", help="tasks whose team is short for a department: what to staff by hand")
    p.add_argument("round", type=int, help="the round's number")
    p.add_argument("--offset", type=int, default=0, help="skip this many (for the next page)")
    p.add_argument("--limit", type=int, default=100, help="at most this many (1 to 1000, default 100)")
    p.set_defaults(handler=unstaffed_command)

    p = sub.add_parser("archive", help="write the round bundle to DIR, or a ZIP when DIR ends in .zip")
    p.add_argument("round", type=int, help="the round's number")
    p.add_argument("destination", help="a folder, or a file name ending in .zip")
    p.set_defaults(handler=archive_command)

    for action in sub.choices.values():
        add_actor_option(action)


async def _run(settings, as_user, fn, *args, commit=True, **kw):
    async with open_database(settings) as sessionmaker, new_uow(sessionmaker) as uow:
        actor = await actor_for(uow, as_user)
        result = await fn(uow, actor, *args, **kw)
        if commit:
            await uow.commit()
        return result


async def list_command(args, settings) -> int:
    async def lines(uow, actor):
        return [f"{r.id}\t{r.status}\t{region_label(r.region)}\t{r.title}" for r in await list_rounds(uow, actor, status=args.status)]

    print("\n".join(await _run(settings, args.as_user, lines, commit=False)) or "no rounds")
    return 0


async def show_command(args, settings) -> int:
    async def show(uow, actor, round_id):
        detail = await round_detail(uow, actor, round_id)
        r, draw = detail.round, detail.draw
        return {
            "id": r.id,
            "title": r.title,
            "status": r.status,
            "region": region_label(r.region),
            "kind": r.kind,
            "participants": {d.code: {"status": p.status, "team": p.team_size, "lead": p.is_lead} for p, d in detail.participants},
            "items": [f"{i.code} v{i.version}" for i in detail.items],
            "ratios": {risk: percent(permille) for risk, permille in json.loads(r.ratios).items()},
            "commitment": draw.commitment if draw else None,
            "seed": draw.seed_digits if draw else None,
            "tasks": detail.tasks,
        }

    print(json.dumps(await _run(settings, args.as_user, show, args.round, commit=False), ensure_ascii=False, indent=2))
    return 0


async def propose_command(args, settings) -> int:
    title, invited = args.title, _pairs(args.invite, "invite")
    if args.joint_item:
        name, named = await _run(settings, args.as_user, joint_item_invitations, args.joint_item, args.lead, args.team, commit=False)
        title = title or name[:200]
        invited = {**named, **invited}  # an --invite gives its own team size
    if not title:
        raise InvalidInput("the round needs a title (--title)")
    proposal = Proposal(
        lead=args.lead,
        title=title,
        region=args.region,
        items=_csv(args.items),
        invited=invited,
        ratios=_ratios(args.ratio),
        lead_team_size=args.team,
        cooling_off_days=_pairs(args.cooling_off, "cooling-off"),
        scope=RoundScope(
            regions=_csv(args.scope_regions),
            kinds=_csv(args.scope_kinds),
            industries=_csv(args.scope_industries),
            tags=_csv(args.scope_tags),
            departments=_csv(args.scope_departments),
            stratify_by_region=args.stratify_by_region,
            case_sources=_csv(args.scope_case_sources),
            case_days=args.scope_case_days,
        ),
        batch_size=args.batch_size,
        draw_at=parse_draw_at(args.draw_at),
        due_date=parse_date(args.due, code="due.unreadable") if args.due else None,
        kind="special" if args.special else "regular",
    )
    round_ = await _run(settings, args.as_user, propose_round, proposal)
    print(f"round {round_.id} proposed; invitations queued")
    return 0


async def respond_command(args, settings) -> int:
    items = _csv(getattr(args, "items", None))
    participant = await _run(settings, args.as_user, respond_to_round, args.round, args.department, args.accept, items)
    print(f"round {args.round}: {args.department} {participant.status}")
    return 0


async def approve_command(args, settings) -> int:
    report = await _run(settings, args.as_user, approve_round, args.round)
    print(f"round {report.round_id} approved and frozen: {report.population} targets, {report.expected_tasks} to be drawn")
    print(f"commitment {report.commitment}")
    for w in report.warnings:
        how = "all" if w.certain else "up to"
        print(f"warning: {w.department} has {w.pool} inspectors for teams of {w.team_size}: {how} {w.targets} targets unstaffed")
    return 0


async def seed_command(args, settings) -> int:
    material = await _run(settings, args.as_user, enter_seed, args.round, args.digits)
    print(f"seed material {material}")
    return 0


async def schedule_command(args, settings) -> int:
    round_ = await _run(settings, args.as_user, schedule_draw, args.round, parse_draw_at(args.when, DOMAIN_TZ))
    print(f"round {round_.id} will be drawn at {round_.draw_at.isoformat()}")
    return 0


async def draw_command(args, settings) -> int:
    report = await _run(settings, args.as_user, run_draw, args.round)
    print(f"round {report.round_id} drawn: {report.selected} targets, {report.assignments} assignments")
    print(f"selected.tsv sha256 {report.selected_sha256}")
    for target, department in report.unstaffed:
        print(f"unstaffed: {target} for {department}")
    return 0


async def staff_command(args, settings) -> int:
    await _run(settings, args.as_user, staff_by_hand, args.task, args.department, args.inspector, args.reason)
    print(f"task {args.task}: {args.inspector} added to the {args.department} team")
    return 0


async def unstaffed_command(args, settings) -> int:
    shorts = await _run(settings, args.as_user, short_teams, args.round, offset=args.offset, limit=args.limit, commit=False)
    for short in shorts:
        print(f"task {short.task_id}\t{short.target_code}\t{short.department}\t{short.members}/{short.team_size}")
    print(f"{len(shorts)} short teams from offset {args.offset}" if shorts else f"no short team from offset {args.offset}")
    return 0


async def archive_command(args, settings) -> int:
    path = await _run(settings, args.as_user, archive_round, args.round, args.destination, store=FileStore(settings.files_dir))
    print(f"round {args.round} archived to {path}")
    return 0
