"""The State Council's holiday notice imported from the console, used before the library; and a
deadline in a year nobody knows is said to be a guess, to the officers and the conveners."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select, update

from jointcheck.core.models import AuditEvent, OfficialDay, OutboxMessage, Round
from jointcheck.core.services.deadlines import DeadlinePolicy, chase_invitations
from jointcheck.core.services.rounds import propose_round, respond_to_round
from tests.conftest import run_in_thread
from tests.integration.test_deadlines import at, china, notices
from tests.round_world import build_world, proposal, step

NOTICE_2027 = "日期,类型,名称\n2027-02-06,放假,春节\n2027-02-07,放假,春节\n2027-02-08,放假,春节\n2027-02-14,上班,春节调休\n"


async def _days(db_url: str) -> dict[dt.date, str]:
    from jointcheck.core.db import make_engine

    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            return {day: kind for day, kind in await conn.execute(select(OfficialDay.day, OfficialDay.kind))}
    finally:
        await engine.dispose()


def test_import_a_notice_then_a_correction_replaces_its_year(cli, db_url, tmp_path):
    path = tmp_path / "2027.csv"
    path.write_text(NOTICE_2027, encoding="utf-8")
    done = cli(db_url, "admin", "holidays", "import", str(path))
    assert done.code == 0 and "holidays of 2027 imported: 3 holidays, 1 make-up workdays" in done.out, done.err
    assert run_in_thread(_days(db_url))[dt.date(2027, 2, 14)] == "workday"

    from openpyxl import Workbook

    corrected = tmp_path / "2027-corrected.xlsx"
    book = Workbook()
    for row in (["date", "kind", "name"], [dt.date(2027, 2, 6), "holiday", "Spring Festival"], ["2027/2/20", "workday", ""]):
        book.active.append(row)
    book.save(corrected)
    assert cli(db_url, "admin", "holidays", "import", str(corrected)).code == 0
    assert run_in_thread(_days(db_url)) == {dt.date(2027, 2, 6): "holiday", dt.date(2027, 2, 20): "workday"}


def test_a_bad_notice_names_each_row_and_column_and_changes_nothing(cli, db_url, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(NOTICE_2027, encoding="utf-8")
    assert cli(db_url, "admin", "holidays", "import", str(good)).code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "date,kind,name\n2027-02-30,holiday,x\n2027-03-01,vacation,y\n2027-03-03,workday,z\n2027-02-06,holiday,a\n2027-02-06,holiday,b\n"
    )
    refused = cli(db_url, "admin", "holidays", "import", str(bad))
    assert refused.code == 1
    assert refused.err.splitlines() == [
        "error: line 2, column date: '2027-02-30' is not a date such as 2027-02-06",
        "error: line 3, column kind: 'vacation' is neither holiday (放假) nor workday (上班)",
        "error: line 4, column kind: 2027-03-03 is a weekday, worked anyway: a make-up workday is a Saturday or Sunday",
        "error: line 6, column date: 2027-02-06 is listed already on line 5",
    ]
    assert len(run_in_thread(_days(db_url))) == 4  # the first import, untouched
    headless = tmp_path / "headless.csv"
    headless.write_text("2027-02-06,holiday\n")
    assert "the columns date, kind are missing" in cli(db_url, "admin", "holidays", "import", str(headless)).err


@pytest.fixture
async def world(uow_factory):
    return await build_world(uow_factory)


async def test_a_deadline_in_an_unknown_year_is_said_to_be_a_guess(sessionmaker, uow_factory, world, caplog):
    round_ = await step(uow_factory, propose_round, world.actors["samr"], proposal(draw_at=None, due_date=None))
    await step(uow_factory, respond_to_round, world.actors["tax"], round_.id, "TAX", True, ("TAX-001",))
    async with sessionmaker() as session:  # invited on Wednesday 30 December 2026; the answer is due in 2027
        await session.execute(update(Round).where(Round.id == round_.id).values(created_at=china(2026, 12, 30, 10)))
        await session.commit()
    policy = DeadlinePolicy()
    with caplog.at_level("WARNING", logger="jointcheck.deadlines"):
        assert await step(at(uow_factory, china(2027, 1, 5, 9)), chase_invitations, policy) == 2 + 1  # EPB, the lead, the convener
    assert "no holiday calendar for 2027" in caplog.text
    reminder = json.loads((await notices(sessionmaker, "invitation_reminder"))[0].params)
    assert reminder["unknown_years"] == [2027] and reminder["deadline"] == "2027-01-04"  # 31 Dec, 1 Jan (2026's rule), 4 Jan
    told = await notices(sessionmaker, "calendar_unknown")
    assert [n.chat_id for n in told] == [1003]  # the convener of 440100, not the other region's
    assert json.loads(told[0].params) == {"round_id": round_.id, "year": 2027, "deadline": "2027-01-04", "what": "invitation"}
    assert await step(at(uow_factory, china(2027, 1, 6, 9)), chase_invitations, policy) == 0  # once

    # with 2027's notice imported, nothing is a guess any more
    from jointcheck.core.services.holidays import import_holidays
    from tests.round_world import OPERATOR

    await step(uow_factory, import_holidays, OPERATOR, [(dt.date(2027, 1, 1), "holiday", "元旦")])
    async with sessionmaker() as session:
        await session.execute(OutboxMessage.__table__.delete())
        await session.commit()
        assert (
            await session.execute(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "calendar.imported"))
        ).scalar_one() == 1
    assert await step(at(uow_factory, china(2027, 1, 6, 9)), chase_invitations, policy) == 2
    assert json.loads((await notices(sessionmaker, "invitation_reminder"))[0].params)["unknown_years"] == []
    assert await notices(sessionmaker, "calendar_unknown") == []
