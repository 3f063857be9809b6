"""`jointcheck template KIND FILE.xlsx`: a blank register to fill in, with its instructions."""

from __future__ import annotations

from jointcheck.core.directory_io.templates import write_template
from jointcheck.core.errors import InvalidInput

KINDS = ("targets", "inspectors", "items", "joint-items")


def register(commands) -> None:
    p = commands.add_parser("template", help="write a blank import template (.xlsx) with Chinese columns and instructions")
    p.add_argument("kind", choices=KINDS, help="which register: targets, inspectors, items or joint-items")
    p.add_argument("file", help="the .xlsx file to write")
    p.set_defaults(handler=template_command)


async def template_command(args, settings) -> int:
    if not args.file.lower().endswith(".xlsx"):
        raise InvalidInput("a template is an .xlsx file")
    write_template(args.file, args.kind)
    print(f"template for {args.kind} written to {args.file}")
    return 0
