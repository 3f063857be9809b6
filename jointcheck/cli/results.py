"""`jointcheck results …`: what an officer does in chat with /review and /publish, from a desk,
through the same core services (authorization, audit and outbox alike)."""

from __future__ import annotations

from jointcheck.cli.context import actor_for, add_actor_option, new_uow, open_database
from jointcheck.core.services.publication import correct_result
from jointcheck.core.services.results import awaiting_review, publish_results, publishable, review_results


def register(commands) -> None:
    parser = commands.add_parser("results", help="results: list what awaits review or publication, accept, return, publish, correct")
    sub = parser.add_subparsers(dest="results_command", required=True, metavar="ACTION")

    p = sub.add_parser("list", help="submissions awaiting your review, and accepted results awaiting publication")
    p.add_argument("--round", type=int, help="only this round")
    p.add_argument("--department", help="only this department's")
    p.set_defaults(handler=list_command)

    for name, helptext in (("accept", "accept a department's submitted results on a task"), ("return", "return them with a reason")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("task", type=int, help="the task's number")
        p.add_argument("--department", required=True, help="the department whose results these are")
        if name == "accept":
            p.add_argument("--note-public", action="store_true", help="publish the inspectors' notes (masked) with the results")
        else:
            p.add_argument("--reason", required=True, help="what the team should correct")
        p.set_defaults(handler=review_command, accept=name == "accept")

    p = sub.add_parser("publish", help="make a department's accepted results of a round public")
    p.add_argument("--round", type=int, required=True, help="the round's number")
    p.add_argument("--department", required=True, help="the department whose accepted results to publish")
    p.set_defaults(handler=publish_command)

    p = sub.add_parser("correct", help="correct a published result: a new public record supersedes the old, both stay")
    p.add_argument("result", type=int, help="the result's number")
    p.add_argument("--category", required=True, help="the standard result category (SPEC section 6), e.g. 1 or A")
    p.add_argument("--follow-up", default="none", help="the follow-up action, default none")
    p.add_argument("--reason", required=True, help="published with the correction")
    p.set_defaults(handler=correct_command)

    for p in sub.choices.values():
        add_actor_option(p)


async def _run(settings, as_user, fn, *, commit=True):
    async with open_database(settings) as sessionmaker, new_uow(sessionmaker) as uow:
        actor = await actor_for(uow, as_user)
        out = await fn(uow, actor)
        if commit:
            await uow.commit()
        return out


async def list_command(args, settings) -> int:
    async def lines(uow, actor):
        out = []
        offset = 0
        while True:
            page = await awaiting_review(uow, actor, offset=offset, limit=50)
            for e in page:
                if (args.round is None or e.summary.round_id == args.round) and (args.department in (None, e.department_code)):
                    s = e.summary
                    out.append(
                        f"review  task {s.task_id}  round {s.round_id}  {e.department_code}  {s.target_code} {s.target_name}  {e.submitted} submitted"
                    )
            if len(page) < 50:
                break
            offset += 50
        for p in await publishable(uow, actor):
            if (args.round is None or p.round_id == args.round) and args.department in (None, p.department_code):
                out.append(f"publish round {p.round_id}  {p.department_code}  {p.accepted} accepted  {p.round_title}")
        return out

    print("\n".join(await _run(settings, args.as_user, lines, commit=False)) or "nothing awaits you")
    return 0


async def review_command(args, settings) -> int:
    async def review(uow, actor):
        if args.accept:
            return await review_results(uow, actor, args.task, args.department, accept=True, note_public=args.note_public)
        return await review_results(uow, actor, args.task, args.department, accept=False, reason=args.reason)

    done = await _run(settings, args.as_user, review)
    print(f"{'accepted' if args.accept else 'returned'} {len(done)} results of {args.department} on task {args.task}")
    return 0


async def publish_command(args, settings) -> int:
    count = await _run(settings, args.as_user, lambda uow, actor: publish_results(uow, actor, args.round, args.department))
    url = settings.site_url.rstrip("/")
    print(f"published {count} results of {args.department} in round {args.round}" + (f": {url}/rounds/{args.round}" if url else ""))
    return 0


async def correct_command(args, settings) -> int:
    async def correct(uow, actor):
        return await correct_result(uow, actor, args.result, category=args.category, follow_up=args.follow_up, reason=args.reason)

    record = await _run(settings, args.as_user, correct)
    print(f"result {args.result} corrected: public record {record.id} supersedes {record.supersedes_id}")
    return 0
