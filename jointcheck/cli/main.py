"""`jointcheck` console script: argument parsing and the one place errors become one line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import threading

from jointcheck.cli import admin, audit, cases, db, directory, plans, results, rounds, run, search, site, stats, template, verify
from jointcheck.config import Settings
from jointcheck.core.errors import JointcheckError, Problems


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jointcheck", description="Joint double-random, one-public inspections.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (db, admin, directory, template, search, plans, rounds, cases, results, stats, verify, audit, run, site):
        module.register(commands)
    return parser


def _quiet_thread_errors(args: threading.ExceptHookArgs) -> None:
    # A database driver's thread can still be finishing after the command failed and its event
    # loop closed; the failure has been reported in one line already.
    logging.getLogger("jointcheck.cli").debug("background thread: %s: %s", args.exc_type.__name__, args.exc_value)


def main(argv: list[str] | None = None) -> int:
    previous, threading.excepthook = threading.excepthook, _quiet_thread_errors
    try:
        return _main(argv)
    finally:
        threading.excepthook = previous


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("JOINTCHECK_LOG_LEVEL", "WARNING"), format="%(levelname)s %(name)s: %(message)s")
    if "JOINTCHECK_LOG_LEVEL" not in os.environ:
        # A refusal at the console is its one error line below; the service logs refusals (someone
        # tried), the operator who typed the command needs no second line saying so.
        logging.getLogger("jointcheck.authz").setLevel(logging.ERROR)
    try:
        settings = Settings()
        return asyncio.run(args.handler(args, settings)) or 0
    except JointcheckError as exc:
        for problem in exc.problems if isinstance(exc, Problems) else [exc]:  # a refused proposal: each of its problems
            print(f"error: {problem}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the promise is one line, never a traceback
        if os.environ.get("JOINTCHECK_DEBUG"):
            raise
        print(f"error: {type(exc).__name__}: {_first_line(exc)} (set JOINTCHECK_DEBUG=1 for details)", file=sys.stderr)
        return 1


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else ""


if __name__ == "__main__":
    raise SystemExit(main())
