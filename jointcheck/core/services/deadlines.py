"""Time-driven work (SPEC capabilities 5 and 7): timed draws, reminders before due dates,
escalation of overdue tasks, unanswered invitations, and warnings before the publication deadline
of 20 working days after completion.

Every function is safe to run again and again (the scheduler sweeps every minute, and a new leader
repeats what the old one may have done): a draw is claimed once in the database, and each notice
carries a key naming what it is about, so the same notice is never queued twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from jointcheck.core.authz import Actor, Grant
from jointcheck.core.clock import local_date
from jointcheck.core.errors import Conflict
from jointcheck.core.models import Role
from jointcheck.core.services.draw import DrawReport, run_draw
from jointcheck.core.services.notify import notify_conveners, notify_departments, notify_inspectors
from jointcheck.core.uow import UnitOfWork
from jointcheck.core.workdays import Calendar, add_working_days, unknown_years, working_days_between

log = logging.getLogger("jointcheck.deadlines")

PUBLICATION_WORKING_DAYS = 20  # 国办发〔2019〕5号: results public within 20 working days


@dataclass(frozen=True)
class DeadlinePolicy:
    """How early people are told. Working days where the law counts them, calendar days for due dates."""

    reminder_days: int = 3  # remind inspectors this many days before a task's due date
    invitation_working_days: int = 3  # an invitation should be answered within this many working days
    publication_warning_working_days: int = 5  # warn this many working days before the publication deadline


def scheduler_actor(region: str) -> Actor:
    """Who runs a timed draw: the schedule the convener of the region set, carried out by the service."""
    return Actor(label="system:scheduler", grants=(Grant(Role.CONVENER, region=region),))


async def scheduled_draws(uow: UnitOfWork) -> list[tuple[int, dt.datetime, str]]:
    """(round id, draw time, status) of every round with a draw time whose draw is still to come."""
    return await uow.deadlines.scheduled_draws()


async def due_draws(uow: UnitOfWork) -> list[int]:
    """Rounds seeded and past their draw time, not drawn yet: what the sweep draws if a timed job was missed."""
    return await uow.deadlines.due_draws(uow.clock())


async def run_due_draw(uow: UnitOfWork, round_id: int) -> DrawReport | None:
    """Draw a seeded round whose time has come; None when it is not due, or drawn already (by
    another process, or by the convener's Draw now)."""
    round_ = await uow.rounds.get(round_id, for_update=True)
    if round_ is None or round_.status != "seeded" or round_.draw_at is None or round_.draw_at > uow.clock():
        return None
    log.warning("round %s: timed draw starting", round_id)
    try:
        return await run_draw(uow, scheduler_actor(round_.region), round_id)
    except Conflict as refused:  # the compare-and-set was lost: someone drew it first
        log.info("timed draw of round %s skipped: %s", round_id, refused)
        return None


async def remind_due_soon(uow: UnitOfWork, policy: DeadlinePolicy) -> int:
    """Each inspector with open tasks due within `reminder_days` hears once per round and due date."""
    today = local_date(uow.clock())
    queued = 0
    for round_id, inspector_id, due, count in await uow.deadlines.open_tasks_by_inspector(
        today, today + dt.timedelta(days=policy.reminder_days)
    ):
        queued += await notify_inspectors(
            uow,
            [inspector_id],
            "tasks_due_soon",
            lambda _, round_id=round_id, due=due, count=count: {"round_id": round_id, "due_date": due.isoformat(), "tasks": count},
            f"round:{round_id}:due-soon:{due.isoformat()}",
            once=True,
        )
    return queued


async def escalate_overdue(uow: UnitOfWork) -> int:
    """The officers of every department of a round hear once when its tasks pass their due date."""
    today = local_date(uow.clock())
    queued = 0
    for round_id, due, count in await uow.deadlines.overdue_tasks(today):
        departments = [d.id for p, d in await uow.rounds.participants(round_id) if p.status == "confirmed"]
        queued += await notify_departments(
            uow,
            departments,
            "tasks_overdue",
            {"round_id": round_id, "due_date": due.isoformat(), "tasks": count},
            f"round:{round_id}:overdue:{due.isoformat()}",
            once=True,
        )
    return queued


async def _guessed(
    uow: UnitOfWork, round_id: int, start: dt.date, deadline: dt.date, calendar: Calendar, what: str
) -> tuple[list[int], int]:
    """The years between `start` and `deadline` whose working days nobody knows (a Monday-to-Friday
    guess), and how many conveners were told: the round's conveners hear once per round and year,
    as the notice about the deadline tells its readers."""
    years, told = unknown_years(start, deadline, calendar), 0
    for year in years:
        round_ = await uow.rounds.get(round_id)
        log.warning("round %s: the %s deadline %s is counted Monday to Friday: no holiday calendar for %s", round_id, what, deadline, year)
        told += await notify_conveners(
            uow,
            round_.region,
            "calendar_unknown",
            {"round_id": round_id, "year": year, "deadline": deadline.isoformat(), "what": what},
            f"round:{round_id}:calendar-unknown:{year}",
            once=True,
        )
    return years, told


async def chase_invitations(uow: UnitOfWork, policy: DeadlinePolicy, calendar: Calendar | None = None) -> int:
    """An invitation unanswered after `invitation_working_days`: its officers are reminded and the
    lead is told who has not answered, once."""
    calendar = calendar or await uow.official_days.calendar()
    today = local_date(uow.clock())
    queued = 0
    for round_id, lead_id, department_id, created in await uow.deadlines.unanswered_invitations():
        deadline = add_working_days(local_date(created), policy.invitation_working_days, calendar)
        if today <= deadline:
            continue
        department = await uow.departments.by_id(department_id)
        guessed, told = await _guessed(uow, round_id, local_date(created), deadline, calendar, "invitation")
        queued += told
        params = {"round_id": round_id, "department": department.code, "deadline": deadline.isoformat(), "unknown_years": guessed}
        queued += await notify_departments(
            uow, [department_id], "invitation_reminder", params, f"round:{round_id}:answer-due:d{department_id}", once=True
        )
        queued += await notify_departments(
            uow, [lead_id], "invitation_unanswered", params, f"round:{round_id}:unanswered:d{department_id}", once=True
        )
    return queued


async def warn_publication(uow: UnitOfWork, policy: DeadlinePolicy, calendar: Calendar | None = None) -> int:
    """Accepted results not yet public: the department's officers are warned once when the deadline
    is near, and once more when it has passed."""
    calendar = calendar or await uow.official_days.calendar()
    today = local_date(uow.clock())
    queued = 0
    for round_id, department_id, completed, count in await uow.deadlines.unpublished_results():
        deadline = add_working_days(local_date(completed), PUBLICATION_WORKING_DAYS, calendar)
        left = working_days_between(today, deadline, calendar)
        if today > deadline:
            stage = "overdue"
        elif left <= policy.publication_warning_working_days:
            stage = "due"
        else:
            continue
        guessed, told = await _guessed(uow, round_id, local_date(completed), deadline, calendar, "publication")
        queued += told
        params = {
            "round_id": round_id,
            "deadline": deadline.isoformat(),
            "results": count,
            "working_days_left": left,
            "overdue": stage == "overdue",
            "unknown_years": guessed,
        }
        queued += await notify_departments(
            uow,
            [department_id],
            "publication_due",
            params,
            f"round:{round_id}:publish-{stage}:d{department_id}:{deadline.isoformat()}",
            once=True,
        )
    return queued


async def sweep(uow: UnitOfWork, policy: DeadlinePolicy) -> dict[str, int]:
    """Every notice due now, in one transaction (the caller commits)."""
    calendar = await uow.official_days.calendar()
    return {
        "reminders": await remind_due_soon(uow, policy),
        "escalations": await escalate_overdue(uow),
        "invitations": await chase_invitations(uow, policy, calendar),
        "publication": await warn_publication(uow, policy, calendar),
    }
