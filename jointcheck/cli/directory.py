"""`jointcheck import KIND FILE` and `jointcheck export KIND FILE`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from jointcheck.cli.context import actor_for, add_actor_option, new_uow, open_database
from jointcheck.core.directory_io.report import render_errors
from jointcheck.core.errors import InvalidInput
from jointcheck.core.services.directory_import import KINDS, export_directory, import_directory
from jointcheck.core.services.results_export import export_results
from jointcheck.core.services.results_import import import_results

SHOWN_ERRORS = 50


def register(commands) -> None:
    imp = commands.add_parser("import", help="import the item list or a directory from CSV or XLSX")
    imp.add_argument("kind", choices=(*KINDS, "results"), help="results: entered from paper by an officer of the department (--as)")
    imp.add_argument("file", help="a CSV (UTF-8, BOM or GB18030) or XLSX file, with zh or en headers")
    imp.add_argument("--skip-bad-rows", metavar="BAD_ROWS_CSV", help="import the good rows; write the bad ones with their reasons here")
    imp.add_argument("--dry-run", action="store_true", help="validate only; change nothing")
    add_actor_option(imp)
    imp.set_defaults(handler=import_command)

    exp = commands.add_parser(
        "export", help="export the item list, a directory, or results for the department's report (CSV or XLSX by extension)"
    )
    exp.add_argument("kind", choices=(*KINDS, "results"), help="what to write: the item list, a directory, or results")
    exp.add_argument("file", help="the file to write: .csv or .xlsx")
    exp.add_argument("--language", choices=("en", "zh"), default="en", help="header language (item list and directories)")
    exp.add_argument("--round", type=int, help="results: only this round")
    exp.add_argument("--department", help="results: only this department's (default: all of yours)")
    exp.add_argument("--from", dest="date_from", type=_date, help="results: inspected on or after, YYYY-MM-DD")
    exp.add_argument("--to", dest="date_to", type=_date, help="results: inspected on or before, YYYY-MM-DD")
    add_actor_option(exp)
    exp.set_defaults(handler=export_command)


def _progress(console: Console):
    """A live bar with rows per second on a terminal; nothing at all otherwise."""
    if not console.is_terminal:
        return None, None
    progress = Progress(
        TextColumn("[bold]importing"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} rows"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = progress.add_task("import", total=None, rate="")
    started = time.monotonic()

    def update(rows: int) -> None:
        elapsed = max(time.monotonic() - started, 1e-6)
        progress.update(task, completed=rows, rate=f"{rows / elapsed:,.0f} rows/s")

    return progress, update


async def import_results_command(args, settings) -> int:
    if args.skip_bad_rows:
        raise InvalidInput("results are imported all or nothing: --skip-bad-rows is for the directories")
    async with open_database(settings) as sessionmaker, new_uow(sessionmaker) as uow:
        actor = await actor_for(uow, args.as_user)
        report = await import_results(uow, actor, args.file, dry_run=args.dry_run)
        if report.imported:
            await uow.commit()
    for line in render_errors(report.errors, limit=SHOWN_ERRORS, total=len(report.errors)):
        print(line, file=sys.stderr)
    summary = f"{report.rows} rows read, {len(report.errors)} errors"
    if args.dry_run or report.errors or not report.imported:
        print(("dry run: " if args.dry_run else "nothing imported: ") + summary, file=sys.stdout if args.dry_run else sys.stderr)
        return 1 if report.errors or not (args.dry_run and report.rows) else 0
    print(f"imported results: {summary}; {report.imported} results submitted for review")
    return 0


async def import_command(args, settings) -> int:
    if args.kind == "results":
        return await import_results_command(args, settings)
    console = Console(file=sys.stderr)
    progress, update = _progress(console)
    async with open_database(settings) as sessionmaker, new_uow(sessionmaker) as uow:
        actor = await actor_for(uow, args.as_user)
        started = time.monotonic()
        if progress:
            progress.start()
        try:
            result = await import_directory(
                uow,
                actor,
                args.kind,
                args.file,
                skip_bad_rows=bool(args.skip_bad_rows),
                bad_rows_path=args.skip_bad_rows,
                dry_run=args.dry_run,
                progress=update,
            )
        finally:
            if progress:
                progress.stop()
        seconds = time.monotonic() - started
    for line in render_errors(result.errors, args.kind, limit=SHOWN_ERRORS, total=result.error_count):
        print(line, file=sys.stderr)
    summary = f"{result.rows_read} rows read, {result.good} good, {result.bad_rows} bad, in {seconds:.1f}s"
    if result.dry_run:
        print(f"dry run: {summary}; nothing changed")
        return 1 if result.error_count else 0
    if not result.imported:
        print(f"nothing imported: {summary}", file=sys.stderr)
        return 1
    print(f"imported {args.kind}: {summary}; {result.written} rows written")
    if result.bad_rows_file:
        print(f"bad rows with their reasons: {result.bad_rows_file}")
    return 0


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date as YYYY-MM-DD") from None


async def export_command(args, settings) -> int:
    async with open_database(settings) as sessionmaker, new_uow(sessionmaker) as uow:
        actor = await actor_for(uow, args.as_user)
        if args.kind == "results":
            count = await export_results(
                uow, actor, args.file, round_id=args.round, department=args.department, date_from=args.date_from, date_to=args.date_to
            )
        else:
            count = await export_directory(uow, actor, args.kind, args.file, language=args.language)
    print(f"exported {count} {args.kind} to {args.file}")
    return 0
