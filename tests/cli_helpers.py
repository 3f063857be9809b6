"""Run the real `jointcheck` entry point in-process against a given database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from jointcheck.cli.main import main


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(monkeypatch, capsys):
    def run(db_url: str, *args: str) -> CliResult:
        monkeypatch.setenv("JOINTCHECK_DATABASE_URL", db_url)
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
