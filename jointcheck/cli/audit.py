"""`jointcheck audit verify`: walk the hash chain."""

from __future__ import annotations

from jointcheck.cli.context import open_database
from jointcheck.core.audit import verify_chain


def register(commands) -> None:
    parser = commands.add_parser("audit", help="the audit trail")
    sub = parser.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = sub.add_parser("verify", help="check every event's hash and link; exit 1 at the first broken one")
    verify.set_defaults(handler=verify_command)


async def verify_command(args, settings) -> int:
    async with open_database(settings) as sessionmaker, sessionmaker() as session:
        report = await verify_chain(session)
    if report.ok:
        print(f"audit chain intact: {report.checked} events, head {report.head_hash}")
        return 0
    print(f"audit chain BROKEN at event {report.broken_seq}: {report.reason} ({report.checked} events before it are intact)")
    return 1
