"""The credit loop (SPEC capability 10, 信用监管): published results move a target's risk class.

When a department publishes results, each target they concern is judged by the policy in force
(core/credit_policy.py) on its published inspections since its class last changed; a change
updates the target's class (the stratum and cooling-off of every round frozen from then on),
is kept in its history with the policy's hash, and is audited in the same transaction. A round
already frozen reads only its frozen files, so it never sees the change.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from jointcheck.core.authz import Action, Actor, Scope, can
from jointcheck.core.credit_policy import CreditPolicy, Decision, Inspection, active_policy, decide
from jointcheck.core.errors import NotFound
from jointcheck.core.uow import UnitOfWork


@dataclass(frozen=True)
class ClassChange:
    at: dt.datetime
    from_class: str
    to_class: str
    reason: str  # raise | lower
    categories: tuple[str, ...]
    round_id: int | None
    round_title: str | None


@dataclass(frozen=True)
class PublishedResult:
    round_id: int
    task_id: int
    item_code: str
    category: str
    published_at: dt.datetime | None


@dataclass(frozen=True)
class TargetHistory:
    code: str
    name: str
    risk: str
    changes: list[ClassChange]
    results: list[PublishedResult]


async def apply_after_publication(
    uow: UnitOfWork, actor: Actor, round_id: int, department_id: int, at: dt.datetime, policy: CreditPolicy | None = None
) -> list[tuple[str, Decision]]:
    """Judge every target whose results were just published (at `at`); returns (target code, decision)
    for each change made. Called by publish_results inside its transaction."""
    policy = policy or active_policy()
    published = uow.credit.published_now(round_id, department_id, at)
    targets = await uow.credit.targets(published)
    if not targets:
        return []
    target_ids = list(targets)
    last = await uow.credit.last_changes(published)
    # Results published before the last change made it and must not count again; those of the
    # task that made it do, together with the new ones, so that one inspection raises a class by
    # its largest step however many departments publish its problems, one after another.
    tasks: dict[int, dict[int, list]] = defaultdict(dict)
    same_task: dict[int, set[str]] = defaultdict(set)
    for target_id, task_id, category, published_at in await uow.credit.published_results(published):
        change = last.get(target_id)
        if change is not None and published_at <= change.changed_at:
            if change.reason == "raise" and task_id == change.task_id:
                same_task[target_id].add(category)
            continue
        entry = tasks[target_id].setdefault(task_id, [published_at, set()])
        entry[0] = max(entry[0], published_at)
        entry[1].add(category)
    changes, moved, rows = [], [], []
    # Nothing in this loop waits on the database: the classes change in one statement after it,
    # and the history rows and audit events go in with the transaction's next flush.
    for target_id in target_ids:
        code, risk = targets[target_id]
        history = sorted(
            (Inspection(task_id, when, frozenset(categories)) for task_id, (when, categories) in tasks[target_id].items()),
            key=lambda i: (i.published_at, i.task_id),
        )
        change = last.get(target_id)
        if history and change is not None and history[-1].task_id == change.task_id and change.reason == "raise":
            decision = _raise_further(policy, change.from_class, risk, history[-1], same_task[target_id])
        else:
            decision = decide(policy, risk, history)
        if decision is None:
            continue
        task_id = history[-1].task_id
        moved.append((target_id, decision.to_class))
        rows.append(
            {
                "target_id": target_id,
                "from_class": decision.from_class,
                "to_class": decision.to_class,
                "reason": decision.reason,
                "categories": ";".join(decision.categories),
                "round_id": round_id,
                "task_id": task_id,
                "policy_sha256": policy.sha256,
                "changed_at": at,
            }
        )
        await uow.audit.record(
            actor,
            "credit.changed",
            "target",
            code,
            {
                "from": decision.from_class,
                "to": decision.to_class,
                "reason": decision.reason,
                "categories": list(decision.categories),
                "round_id": round_id,
                "task_id": task_id,
                "policy_sha256": policy.sha256,
            },
        )
        changes.append((code, decision))
    await uow.credit.set_classes(moved)
    await uow.credit.add_changes(rows)
    return changes


def _raise_further(policy: CreditPolicy, before: str, current: str, inspection: Inspection, earlier: set[str]) -> Decision | None:
    """More results of the inspection that last raised the class: judged with the earlier ones from
    the class before that raise, a change only if that takes the class higher than it is now."""
    whole = Inspection(inspection.task_id, inspection.published_at, inspection.categories | frozenset(earlier))
    decision = decide(policy, before, [whole])
    ladder = policy.classes
    if decision is None or decision.reason != "raise" or current not in ladder:
        return None
    if ladder.index(decision.to_class) <= ladder.index(current):
        return None
    return Decision("raise", current, decision.to_class, decision.categories)


async def target_history(uow: UnitOfWork, actor: Actor, code: str, *, limit: int = 20) -> TargetHistory:
    """A target's class, its changes of class and its published results, newest first: for the
    officers of the departments that supervise it and the conveners of its region."""
    target = await uow.targets.by_code(code.strip())
    if target is None:
        raise NotFound(f"no target with code {code}")
    departments = [d.id for d in [await uow.departments.by_code(c) for c in target.departments.split(";") if c] if d is not None]
    if not can(actor, Action.DIRECTORY_VIEW, Scope.of(departments=departments, region=target.region)):
        raise NotFound(f"no target with code {code}")  # to anyone else, as a target that does not exist
    limit = max(1, min(limit, 100))
    changes = [
        ClassChange(c.changed_at, c.from_class, c.to_class, c.reason, tuple(filter(None, c.categories.split(";"))), c.round_id, title)
        for c, title in await uow.credit.history(target.id, limit)
    ]
    results = [PublishedResult(*row) for row in await uow.credit.inspections(target.id, limit)]
    return TargetHistory(target.code, target.name, target.risk, changes, results)
