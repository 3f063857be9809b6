"""`jointcheck import KIND FILE` and `jointcheck export KIND FILE`."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from jointcheck.cli.context import actor_for, add_actor_option, new_uow, open_database
from jointcheck.core.directory_io.errors import HeaderError
from jointcheck.core.directory_io.report import render_errors, translate, write_report
from jointcheck.core.directory_io.schemas import IGNORE, ColumnMapping, get_schema
from jointcheck.core.errors import InvalidInput
from jointcheck.core.services.directory_import import KINDS, ImportOptions, export_directory, import_directory, read_columns
from jointcheck.core.services.results_export import export_results
from jointcheck.core.services.results_import import import_results
from jointcheck.i18n import console_language

SHOWN_ERRORS = 50
EXIT_SKIPPED = 3  # imported, with rows skipped


def register(commands) -> None:
    imp = commands.add_parser("import", help="import the item list or a directory from CSV or XLSX")
    imp.add_argument("kind", choices=(*KINDS, "results"), help="results: entered from paper by an officer of the department (--as)")
    imp.add_argument("file", help="a CSV (UTF-8, BOM or GB18030) or XLSX file, with zh or en headers")
    imp.add_argument("--skip-bad-rows", metavar="BAD_ROWS_CSV", help="import the good rows; write the bad ones with their reasons here")
    imp.add_argument("--dry-run", action="store_true", help="validate only; change nothing")
    imp.add_argument("--sheet", metavar="NAME|N", help="the sheet to read (name, or number from 1); the first by default")
    imp.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="HEADER=COLUMN",
        help="read the file's column HEADER as COLUMN (or '-' to leave it out); repeatable",
    )
    imp.add_argument("--map-file", metavar="FILE", help="a file of HEADER=COLUMN lines, as --map")
    imp.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help="one value for a column the file lacks (or for its empty cells); repeatable",
    )
    imp.add_argument("--ignore-unknown", action="store_true", help="leave out columns that are not understood (they are listed)")
    imp.add_argument("--show-mapping", action="store_true", help="print how each column is understood, and stop")
    imp.add_argument("--region-from-address", action="store_true", help="targets: a row without a region takes it from its address")
    imp.add_argument("--report", metavar="FILE", help="write every problem to this CSV file (dry runs too)")
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


def _pairs(entries: list[str], what: str) -> dict[str, str]:
    pairs = {}
    for entry in entries:
        name, sep, value = entry.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"{what} takes NAME=VALUE, not {entry!r}")
        pairs[name.strip()] = value.strip()
    return pairs


def _column_key(schema, name: str) -> str:
    """A column named by its key, Chinese name or an alias (监管部门, departments)."""
    if name == IGNORE:
        return IGNORE
    lookup = schema._lookup()
    key = lookup.get(name) or lookup.get(name.lower())
    if key is None:
        raise InvalidInput(f"{name!r} is not a column of {schema.kind}: {', '.join(schema.read_fields)}")
    return key


def options_of(args) -> ImportOptions:
    schema = get_schema(args.kind)
    entries = list(args.map)
    if args.map_file:
        try:
            lines = Path(args.map_file).read_text(encoding="utf-8-sig").splitlines()
        except OSError as exc:
            raise InvalidInput(f"cannot read {args.map_file}: {exc.strerror}") from None
        entries = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")] + entries
    names = {header: _column_key(schema, column) for header, column in _pairs(entries, "--map").items()}
    given = {_column_key(schema, column): value for column, value in _pairs(args.set, "--set").items()}
    mapping = ColumnMapping(names=names, given=given, ignore_unknown=args.ignore_unknown)
    return ImportOptions(sheet=args.sheet, mapping=mapping, region_from_address=args.region_from_address)


def _say(template: str, language: str, stream=None, **params) -> None:
    print(translate(template, params, language), file=stream or sys.stdout)


def show_mapping(args, options: ImportOptions, language: str) -> int:
    try:
        readings, layout = read_columns(args.kind, args.file, options)
    except HeaderError as error:
        return _header_refused(error, language)
    for template, params in layout:
        _say(template, language, **params)
    for reading in readings:
        if reading.key is None:
            _say("  {header} -> left out", language, header=reading.header)
        else:
            _say("  {header} -> {column}", language, header=reading.header, column=reading.label)
    for key, value in options.mapping.given.items():
        _say("  (--set) {column} = {value}", language, column=get_schema(args.kind).label(key), value=value)
    return 0


def _header_refused(error: HeaderError, language: str) -> int:
    for problem in error.problems(language):
        print(translate("error: {problem}", {"problem": problem}, language), file=sys.stderr)
    _say(
        "nothing imported; --show-mapping shows how each column is read, --map and --ignore-unknown change it", language, stream=sys.stderr
    )
    return 1


async def import_command(args, settings) -> int:
    if args.kind == "results":
        return await import_results_command(args, settings)

    language = console_language(os.environ)
    options = options_of(args)
    if args.show_mapping:
        return show_mapping(args, options, language)
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
                options=options,
                language=language,
                keep_all_errors=bool(args.report),
            )
        except HeaderError as error:
            return _header_refused(error, language)
        finally:
            if progress:
                progress.stop()
        seconds = time.monotonic() - started
    for template, params in result.layout:
        _say(template, language, **params)
    for code, name in result.generated_codes:
        shown = " ".join(name.split())
        _say("code {code} given to {name}", language, code=code, name=shown if len(shown) <= 40 else shown[:39] + "…")
    if result.ignored_columns:
        _say("columns left out: {columns}", language, columns=", ".join(result.ignored_columns))
    for line in render_errors(result.errors, args.kind, limit=SHOWN_ERRORS, total=result.error_count, language=language):
        print(line, file=sys.stderr)
    if args.report:
        write_report(args.report, result.errors, args.kind, language=language)
        _say("every problem is in {file}", language, file=args.report)
    summary = translate(
        "{rows} rows read, {good} good, {bad} bad, in {seconds}s",
        {"rows": result.rows_read, "good": result.good, "bad": result.bad_rows, "seconds": f"{seconds:.1f}"},
        language,
    )
    if result.dry_run:
        _say("dry run: {summary}; nothing changed", language, summary=summary)
        return 1 if result.error_count else 0
    if not result.imported:
        _say("nothing imported: {summary}", language, stream=sys.stderr, summary=summary)
        return 1
    _say("imported {kind}: {summary}; {written} rows written", language, kind=args.kind, summary=summary, written=result.written)
    if result.bad_rows_file:
        _say(
            "imported, {count} rows skipped; the bad rows with their reasons: {file}",
            language,
            count=result.bad_rows,
            file=result.bad_rows_file,
        )
        return EXIT_SKIPPED
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
