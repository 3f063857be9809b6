"""`jointcheck verify BUNDLE`: the same check an outsider runs with public_proof.py alone."""

from __future__ import annotations

from jointcheck.core import public_proof


def register(commands) -> None:
    parser = commands.add_parser("verify", help="check a round bundle (folder or ZIP) offline")
    parser.add_argument("bundle", help="a round bundle: the folder or .zip `round archive` wrote")
    parser.set_defaults(handler=verify_command)


async def verify_command(args, settings) -> int:
    return public_proof.main([args.bundle])
