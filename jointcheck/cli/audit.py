"""`jointcheck audit verify`: walk the hash chain."""

from __future__ import annotations

from jointcheck.cli.context import open_database
from jointcheck.core.audit import verify_chain
from jointcheck.core.errors import InvalidInput


def register(commands) -> None:
    parser = commands.add_parser("audit", help="the audit trail")
    sub = parser.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = sub.add_parser("verify", help="check every event's hash and link; exit 1 at the first broken one")
    verify.add_argument(
        "--anchor",
        metavar="SEQ:HASH",
        help="an event recorded earlier outside the database (a head printed before); catches events cut from the end",
    )
    verify.set_defaults(handler=verify_command)


def _anchor(text: str | None) -> tuple[int, str] | None:
    if not text:
        return None
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise InvalidInput("--anchor takes SEQ:HASH, as printed by a previous verify")
    return int(seq), digest.lower()


async def verify_command(args, settings) -> int:
    anchor = _anchor(args.anchor)
    async with open_database(settings) as sessionmaker, sessionmaker() as session:
        report = await verify_chain(session, anchor=anchor)
    if report.ok:
        print(f"audit chain intact: {report.checked} events, head {report.checked}:{report.head_hash}")
        print("keep the head outside this database; pass it as --anchor later to catch events cut from the end")
        return 0
    print(f"audit chain BROKEN at event {report.broken_seq}: {report.reason} ({report.checked} events before it are intact)")
    return 1
