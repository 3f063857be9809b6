"""The console as the operator uses it: --as by id, Telegram @username or name, as `admin users`
lists them; the operator sees every round; ratios in percent; every option explains itself."""

from __future__ import annotations

import argparse
import re

from sqlalchemy import update

from jointcheck.cli.main import build_parser
from jointcheck.core.db import make_engine
from jointcheck.core.models import User
from tests.conftest import run_in_thread
from tests.integration.test_round_cli import province  # noqa: F401  (a fixture)


async def _set_username(db_url: str, user_id: int, username: str) -> None:
    engine = make_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(update(User).where(User.id == user_id).values(telegram_username=username))
    finally:
        await engine.dispose()


PROPOSE = ("--lead", "SAMR", "--title", "联合抽查", "--region", "440100", "--items", "SAMR-001", "--invite", "TAX=1")


def test_as_takes_an_id_a_username_or_a_name_and_admin_users_lists_them(cli, db_url, province):  # noqa: F811
    u = province
    run_in_thread(_set_username(db_url, int(u["tax"]), "Wang_TAX"))
    listed = cli(db_url, "admin", "users")
    assert listed.code == 0, listed.err
    lines = {line.split("\t")[0]: line for line in listed.out.splitlines() if "\t" in line}
    assert lines[u["samr"]] == f"{u['samr']}\tsamr\t(console)\tofficer SAMR"
    assert lines[u["tax"]] == f"{u['tax']}\ttax\t@Wang_TAX\tofficer TAX"
    assert lines[u["convener"]].endswith("convener 440100")

    # by name, a percent ratio; by @username, case aside; by id
    proposed = cli(db_url, "round", "propose", "--as", "samr", *PROPOSE, "--ratio", "A=3%", "--ratio", "D=25‰")
    assert proposed.code == 0, proposed.err
    assert cli(db_url, "round", "confirm", "1", "--as", "@wang_tax", "--department", "TAX", "--items", "TAX-001").code == 0
    shown = cli(db_url, "round", "show", "1", "--as", u["convener"])
    assert '"A": "3%"' in shown.out and '"D": "2.5%"' in shown.out and '"region": "广州市 (440100)"' in shown.out

    nobody = cli(db_url, "round", "list", "--as", "nobody")
    assert nobody.code == 1 and "no user with the id, Telegram username or name 'nobody'" in nobody.err
    assert "is not a number such as 3% or 30‰" in cli(db_url, "round", "propose", "--as", "samr", *PROPOSE, "--ratio", "A=三").err
    # every problem of a refused proposal, one line each
    refused = cli(db_url, "round", "propose", "--as", "samr", *PROPOSE, "--ratio", "A=50%", "--draw-at", "2020-01-01T10:00+08:00")
    lines = refused.err.splitlines()
    assert refused.code == 1 and len(lines) == 2 and all(line.startswith("error: ") for line in lines)
    assert "above the cap 40" in lines[0] and "has passed" in lines[1]


def test_a_name_two_people_share_is_refused_with_both_ids(cli, db_url, province):  # noqa: F811
    code = cli(db_url, "admin", "invite", "--role", "officer", "--department", "TAX").out.splitlines()[0]
    second = re.match(r"user (\d+)", cli(db_url, "admin", "redeem", code, "--name", "samr").out).group(1)
    both = cli(db_url, "round", "list", "--as", "samr")
    assert both.code == 1 and "names several users" in both.err and province["samr"] in both.err and second in both.err
    assert cli(db_url, "round", "list", "--as", second).code == 0


def test_the_operator_shows_and_lists_every_round(cli, db_url, province):  # noqa: F811
    assert cli(db_url, "round", "propose", "--as", "samr", *PROPOSE, "--ratio", "A=10%").code == 0
    shown = cli(db_url, "round", "show", "1")  # no --as: the operator, who holds the admin role
    assert shown.code == 0 and '"status": "proposed"' in shown.out, shown.err
    listed = cli(db_url, "round", "list")
    assert listed.code == 0 and listed.out.startswith("1\tproposed\t广州市 (440100)\t联合抽查")
    # officers still see only their own
    assert cli(db_url, "round", "show", "1", "--as", "convener").code == 0


def test_every_option_has_help_text():
    missing = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")
            elif not isinstance(action, argparse._HelpAction) and not action.help:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(), "jointcheck")
    assert missing == []
