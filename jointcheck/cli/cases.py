"""`jointcheck case …` (个案) and `jointcheck credit …` (the credit loop): from the console, as a named user."""

from __future__ import annotations

import datetime as dt

from jointcheck.cli.context import add_actor_option
from jointcheck.cli.rounds import _csv, _run
from jointcheck.core.credit_policy import POLICY_ENV, active_policy
from jointcheck.core.services.cases import SOURCES, close_case, list_cases, open_case
from jointcheck.core.services.credit import target_history


def register(commands) -> None:
    parser = commands.add_parser("case", help="case leads (个案): open, list, close")
    sub = parser.add_subparsers(dest="case_command", required=True, metavar="ACTION")

    p = sub.add_parser("open", help="open a case against a target: an immediate task for named inspectors")
    p.add_argument("--department", required=True, help="your department's code")
    p.add_argument("--target", required=True, help="the target's code (unified social credit code)")
    p.add_argument("--source", required=True, choices=SOURCES, help="where the lead came from")
    p.add_argument("--inspectors", required=True, help="comma-separated certificate numbers of your department's inspectors")
    p.add_argument("--items", help="comma-separated item codes (default: all your department's current items)")
    p.add_argument("--summary", default="", help="what the case is about, in a sentence")
    p.add_argument("--due", help="due date, YYYY-MM-DD")
    p.set_defaults(handler=open_command)

    p = sub.add_parser("list", help="cases you may see, newest first")
    p.add_argument("--all", action="store_true", help="closed ones too")
    p.set_defaults(handler=list_command)

    p = sub.add_parser("close", help="close a case with a reason")
    p.add_argument("case", type=int, help="the case's number")
    p.add_argument("--reason", required=True, help="why the case is closed, for the audit trail")
    p.set_defaults(handler=close_command)
    for action in sub.choices.values():
        add_actor_option(action)

    parser = commands.add_parser("credit", help="the credit loop: the policy in force, a target's history")
    sub = parser.add_subparsers(dest="credit_command", required=True, metavar="ACTION")
    p = sub.add_parser("policy", help=f"print the credit policy in force (the default, or the file {POLICY_ENV} names)")
    p.set_defaults(handler=policy_command)
    p = sub.add_parser("history", help="a target's risk class, its changes and its published results")
    p.add_argument("target", help="the target's code")
    add_actor_option(p)
    p.set_defaults(handler=history_command)


async def open_command(args, settings) -> int:
    view = await _run(
        settings,
        args.as_user,
        open_case,
        args.department,
        args.target,
        args.source,
        _csv(args.inspectors),
        summary=args.summary,
        items=_csv(args.items),
        due_date=dt.date.fromisoformat(args.due) if args.due else None,
    )
    print(f"case {view.case_id} opened: task {view.task_id} (round {view.round_id}) for {view.target_code}; out of random draws while open")
    return 0


async def list_command(args, settings) -> int:
    cases = await _run(settings, args.as_user, list_cases, open_only=not args.all, commit=False)
    for c in cases:
        print(f"{c.case_id}\t{c.status}\t{c.department_code}\t{c.source}\t{c.target_code}\t{c.target_name}\ttask {c.task_id}\t{c.summary}")
    print(f"{len(cases)} cases" if cases else "no cases")
    return 0


async def close_command(args, settings) -> int:
    view = await _run(settings, args.as_user, close_case, args.case, args.reason)
    print(f"case {view.case_id} closed; {view.target_code} is drawn at random again from the next freeze")
    return 0


async def policy_command(args, settings) -> int:
    policy = active_policy()
    print(f"# {policy.source}\n# sha256 {policy.sha256}")
    print(policy.text, end="" if policy.text.endswith("\n") else "\n")
    return 0


async def history_command(args, settings) -> int:
    history = await _run(settings, args.as_user, target_history, args.target, commit=False)
    print(f"{history.code}\t{history.name}\tclass {history.risk}")
    for c in history.changes:
        print(f"{c.at.isoformat()}\t{c.reason}\t{c.from_class} -> {c.to_class}\t{';'.join(c.categories)}\tround {c.round_id}")
    for r in history.results:
        print(f"{r.published_at.isoformat() if r.published_at else ''}\tround {r.round_id}\ttask {r.task_id}\t{r.item_code}\t{r.category}")
    return 0
