"""Publication (一公开, SPEC capability 7): what a published result shows the public, and its
corrections.

When a department publishes a round's accepted results, each becomes a public record in the same
transaction: the target's name masked where it is a person's, the note only when the reviewing
officer made it public (and masked), the inspection date, the deadline of
20 working days after it and whether publication met it. Never an inspector's name. A public record
is never removed: a correction is a new record that supersedes it, and both stay public.
"""

from __future__ import annotations

import datetime as dt

from jointcheck.core.authz import Action, Actor, Scope, authorize
from jointcheck.core.clock import local_date
from jointcheck.core.errors import Conflict, InvalidInput, NotFound
from jointcheck.core.masking import mask_target_name, mask_text
from jointcheck.core.models import CheckItem, Department, PublicResult, Result
from jointcheck.core.public_record import STORED_FIELDS, serialize
from jointcheck.core.result_categories import CATEGORIES, FOLLOW_UPS
from jointcheck.core.uow import UnitOfWork
from jointcheck.core.workdays import add_working_days

PUBLICATION_WORKING_DAYS = 20  # 国办发〔2019〕5号: results public within 20 working days of completion
REASON_LIMIT = 2000


def publication_due(inspected_on: dt.date | None, finished_at: dt.datetime | None) -> tuple[dt.date | None, dt.date | None]:
    """(inspection date, publication deadline): the date entered from paper, else the day the
    task was completed or, while another department's items are still open, the day this
    department submitted its results."""
    if inspected_on is None and finished_at is None:
        return None, None
    inspected = inspected_on or local_date(finished_at)
    return inspected, add_working_days(inspected, PUBLICATION_WORKING_DAYS)


async def write_public_records(uow: UnitOfWork, round_id: int, department_id: int, now: dt.datetime) -> int:
    """The public records of a department's accepted results of a round, about to be published."""
    rows = await uow.public.to_publish(round_id, department_id)
    department = await uow.departments.by_id(department_id)
    names = await uow.public.inspector_names(sorted({r.task_id for r in rows if r.note and r.note_public}))
    today = local_date(now)
    records = []
    for r in rows:
        inspected, due = publication_due(r.inspected_on, r.finished_at)
        records.append(
            {
                "result_id": r.result_id,
                "round_id": round_id,
                "task_id": r.task_id,
                "department_id": department_id,
                "item_id": r.item_id,
                "item_code": r.item_code,
                "target_code": r.target_code,
                "target_name": mask_target_name(r.target_name, r.target_kind),
                "target_kind": r.target_kind,
                "region": r.region,
                "category": r.category,
                "follow_up": r.follow_up,
                "note": mask_text(r.note, names) if r.note_public else "",
                "inspected_on": inspected,
                "due_by": due,
                "published_at": now,
                "on_time": None if due is None else today <= due,
                "supersedes_id": None,
                "correction_reason": "",
            }
        )
        _serialize(records[-1], department, r.item_name)
    await uow.public.add_records(records)
    return len(records)


def _serialize(record: dict, department: Department, item_name: str) -> None:
    """The record's feed form, stored beside it (core/public_record.py)."""
    values = {name: record.get(name) for name in STORED_FIELDS}
    values |= {"department_code": department.code, "department_name": department.name, "item_name": item_name}
    values["supersedes"] = record.get("supersedes_id")
    record["csv_cells"], record["json_members"] = serialize(values)


async def correct_result(
    uow: UnitOfWork,
    actor: Actor,
    result_id: int,
    *,
    category: str,
    follow_up: str,
    reason: str,
    note: str | None = None,
    note_public: bool | None = None,
) -> PublicResult:
    """Correct a published result: the result changes, and a new public record supersedes the
    old one (both stay public, the new one saying why)."""
    if category not in CATEGORIES:
        raise InvalidInput(f"{category!r} is not a standard result category ({', '.join(CATEGORIES)})")
    if follow_up not in FOLLOW_UPS:
        raise InvalidInput(f"{follow_up!r} is not a follow-up action ({', '.join(FOLLOW_UPS)})")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("a correction needs a reason, which is published with it")
    if len(reason) > REASON_LIMIT:
        raise InvalidInput(f"a reason has at most {REASON_LIMIT} characters")
    result = await uow.session.get(Result, result_id, with_for_update=True)
    old = await uow.public.current_record(result_id, for_update=True) if result is not None else None
    if result is None or old is None:
        raise NotFound(f"no published result {result_id}")
    authorize(actor, Action.RESULT_PUBLISH, Scope.of(departments=[old.department_id]))
    if note is not None:
        result.note = note.strip()
    if note_public is not None:
        result.note_public = note_public
    if (category, follow_up) == (old.category, old.follow_up) and note is None and note_public is None:
        raise Conflict(f"result {result_id} already reads {category} / {follow_up}")
    result.category, result.follow_up = category, follow_up
    now = uow.clock()
    names = await uow.public.inspector_names([old.task_id]) if result.note_public and result.note else []
    record = {
        "result_id": old.result_id,
        "round_id": old.round_id,
        "task_id": old.task_id,
        "department_id": old.department_id,
        "item_id": old.item_id,
        "item_code": old.item_code,
        "target_code": old.target_code,
        "target_name": old.target_name,
        "target_kind": old.target_kind,
        "region": old.region,
        "category": category,
        "follow_up": follow_up,
        "note": mask_text(result.note, names) if result.note_public else "",
        "inspected_on": old.inspected_on,
        "due_by": old.due_by,
        "published_at": now,
        "on_time": old.on_time,  # the deadline concerned the first publication
        "supersedes_id": old.id,
        "correction_reason": mask_text(reason, names),
    }
    item = await uow.session.get(CheckItem, old.item_id)
    _serialize(record, await uow.departments.by_id(old.department_id), item.name)
    new = await uow.public.add_record(PublicResult(**record))
    await uow.public.mark_superseded(old.id, new.id)
    await uow.audit.record(
        actor,
        "result.corrected",
        "task",
        old.task_id,
        {
            "item": old.item_code,
            "record": new.id,
            "supersedes": old.id,
            "from": {"category": old.category, "follow_up": old.follow_up},
            "to": {"category": category, "follow_up": follow_up},
            "reason": reason,
        },
    )
    return new
