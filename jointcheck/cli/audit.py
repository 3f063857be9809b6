"""`jointcheck audit verify`: walk the hash chain, holding it against every published head."""

from __future__ import annotations

from jointcheck.cli.context import open_database
from jointcheck.core.audit import Anchor, published_anchors, verify_chain
from jointcheck.core.errors import InvalidInput


def register(commands) -> None:
    parser = commands.add_parser("audit", help="the audit trail")
    sub = parser.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = sub.add_parser(
        "verify",
        help="check every event's hash and link, and that the chain still holds every published head; exit 1 at the first break",
    )
    verify.add_argument(
        "--anchor",
        metavar="SEQ:HASH",
        help="an event recorded earlier outside the database (a head printed before, or one from a bundle or the site)",
    )
    verify.set_defaults(handler=verify_command)


def _anchor(text: str | None) -> Anchor | None:
    if not text:
        return None
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise InvalidInput("--anchor takes SEQ:HASH, as printed by a previous verify")
    return Anchor(int(seq), digest.lower(), "the anchor")


async def verify_command(args, settings) -> int:
    given = _anchor(args.anchor)
    async with open_database(settings) as sessionmaker, sessionmaker() as session:
        anchors = await published_anchors(session)
        report = await verify_chain(session, anchors=[*anchors, *filter(None, [given])])
    if report.ok:
        print(f"audit chain intact: {report.checked} events, head {report.checked}:{report.head_hash}")
        print(f"it holds all {len(anchors)} published heads" + (" and the anchor" if given else ""))
        return 0
    print(f"audit chain BROKEN at event {report.broken_seq}: {report.reason} ({report.checked} events before it are intact)")
    return 1
