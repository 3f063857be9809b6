"""`jointcheck verify BUNDLE`: the same check an outsider runs with public_proof.py alone."""

from __future__ import annotations

from jointcheck.core import public_proof


def register(commands) -> None:
    parser = commands.add_parser("verify", help="check a round bundle (folder or ZIP) offline")
    parser.add_argument("bundle")
    parser.set_defaults(handler=verify_command)


async def verify_command(args, settings) -> int:
    return public_proof.main([args.bundle])
