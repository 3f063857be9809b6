"""The console script: one clear line and a non-zero exit on error, and the token never shown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from jointcheck.config import Settings
from jointcheck.core import migrate

TOKEN = "123456:SECRET-token-never-to-be-seen"


def test_fresh_database_must_be_upgraded_first(cli, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    result = cli(url, "admin", "department", "add", "A", "甲")
    assert result.code == 1
    assert "run `jointcheck db upgrade`" in result.err and "Traceback" not in result.err
    assert cli(url, "db", "upgrade").code == 0
    assert cli(url, "db", "current").out.strip() == migrate.revisions(url)[-1]
    assert cli(url, "admin", "department", "add", "A", "甲").code == 0


def test_invite_prints_code_and_deep_link(cli, db_url, monkeypatch):
    monkeypatch.setenv("JOINTCHECK_BOT_USERNAME", "jc_test_bot")
    assert cli(db_url, "admin", "department", "add", "SCJG", "市场监管局").code == 0
    result = cli(db_url, "admin", "invite", "--role", "officer", "--department", "SCJG")
    assert result.code == 0, result.err
    code, link, expiry = result.out.strip().splitlines()
    assert link == f"https://t.me/jc_test_bot?start={code}"
    assert "single use" in expiry


def test_refusals_are_one_line(cli, db_url):
    for args in (
        ("admin", "invite", "--role", "officer"),
        ("admin", "department", "add", "bad code!", "x"),
        ("admin", "invite", "--role", "inspector", "--inspector", "nobody"),
    ):
        result = cli(db_url, *args)
        assert result.code == 1
        assert result.err.startswith("error: ") and result.err.count("\n") == 1, result.err


def test_the_console_names_the_option_a_role_needs(cli, db_url):
    """Core says what a role's scope is; the console adds which of its options gives it."""
    assert "needs a department (give --department)" in cli(db_url, "admin", "invite", "--role", "officer").err
    assert "takes no region (leave out --region)" in cli(db_url, "admin", "invite", "--role", "admin", "--region", "440100").err


def test_settings_never_reveal_the_token(monkeypatch):
    monkeypatch.setenv("JOINTCHECK_BOT_TOKEN", TOKEN)
    settings = Settings()
    assert settings.bot_token.get_secret_value() == TOKEN
    assert TOKEN not in repr(settings) and TOKEN not in str(settings.model_dump())


def test_real_console_script_on_a_broken_database(tmp_path):
    env = {**os.environ, "JOINTCHECK_BOT_TOKEN": TOKEN, "JOINTCHECK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/no/such/dir/x.db"}
    exe = Path(sys.executable).with_name("jointcheck")
    proc = subprocess.run([str(exe), "audit", "verify"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert TOKEN not in proc.stderr + proc.stdout
