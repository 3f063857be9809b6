"""Who may do what: the one place every permission is decided (SPEC section 1).

Services call `authorize` on every call with the facts of the resource at hand; adapters never
decide permissions themselves, so a forged button press is refused here whatever the bot did.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from jointcheck.core.errors import PermissionDenied
from jointcheck.core.models import Role
from jointcheck.core.regions import region_covers

log = logging.getLogger("jointcheck.authz")


@dataclass(frozen=True)
class Grant:
    role: Role
    department_id: int | None = None
    region: str | None = None
    inspector_id: int | None = None


@dataclass(frozen=True)
class Actor:
    """A person (or the operator at the console) with the grants they hold right now."""

    label: str
    grants: tuple[Grant, ...] = ()
    user_id: int | None = None

    @classmethod
    def operator(cls, label: str) -> Actor:
        """The platform operator at the server console, who holds the admin role."""
        return cls(label=label, grants=(Grant(Role.ADMIN),))

    def has_role(self, role: Role) -> bool:
        return any(g.role == role for g in self.grants)

    def department_ids(self) -> frozenset[int]:
        return frozenset(g.department_id for g in self.grants if g.role == Role.OFFICER and g.department_id is not None)

    def inspector_ids(self) -> frozenset[int]:
        return frozenset(g.inspector_id for g in self.grants if g.role == Role.INSPECTOR and g.inspector_id is not None)


@dataclass(frozen=True)
class Scope:
    """The facts of a resource that permissions depend on.

    departments: the departments the resource belongs to (an item's department; a round's lead or
    participants, depending on the action); region: the jurisdiction; inspectors: the inspectors
    on the resource's team.
    """

    departments: frozenset[int] = field(default_factory=frozenset)
    region: str | None = None
    inspectors: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def of(cls, departments=(), region=None, inspectors=()) -> Scope:
        return cls(frozenset(d for d in departments if d is not None), region, frozenset(inspectors))


class Action(enum.StrEnum):
    DEPARTMENT_MANAGE = "department.manage"
    INVITE_ISSUE = "invite.issue"
    AUDIT_VERIFY = "audit.verify"
    DIRECTORY_IMPORT = "directory.import"
    ITEMS_MANAGE = "items.manage"
    DIRECTORY_MANAGE = "directory.manage"
    DIRECTORY_VIEW = "directory.view"
    ROUND_PROPOSE = "round.propose"
    ROUND_RESPOND = "round.respond"
    ROUND_APPROVE = "round.approve"
    ROUND_SEED = "round.seed"
    ROUND_DRAW = "round.draw"
    ROUND_VIEW = "round.view"
    ROUND_ARCHIVE = "round.archive"
    TASK_STAFF = "task.staff"
    TASK_VIEW = "task.view"
    RESULT_SUBMIT = "result.submit"
    RESULT_REVIEW = "result.review"
    RESULT_PUBLISH = "result.publish"
    STATS_VIEW = "stats.view"
    CASE_MANAGE = "case.manage"
    CASE_VIEW = "case.view"
    USERS_VIEW = "users.view"
    CALENDAR_IMPORT = "calendar.import"


Rule = Callable[[Grant, Scope], bool]


def _admin(g: Grant, s: Scope) -> bool:
    return g.role == Role.ADMIN


def _officer_of_scope(g: Grant, s: Scope) -> bool:
    return g.role == Role.OFFICER and g.department_id in s.departments


def _convener_of_scope(g: Grant, s: Scope) -> bool:
    return g.role == Role.CONVENER and s.region is not None and g.region is not None and region_covers(g.region, s.region)


def _inspector_on_team(g: Grant, s: Scope) -> bool:
    return g.role == Role.INSPECTOR and g.inspector_id in s.inspectors


RULES: dict[Action, tuple[Rule, ...]] = {
    Action.DEPARTMENT_MANAGE: (_admin,),
    Action.INVITE_ISSUE: (_admin,),
    Action.AUDIT_VERIFY: (_admin,),
    # Bulk loads and exports are the platform operator's: an upsert by code cannot tell a
    # department's own rows from another's, so officers change the directories row by row.
    Action.DIRECTORY_IMPORT: (_admin,),
    Action.ITEMS_MANAGE: (_officer_of_scope,),
    Action.DIRECTORY_MANAGE: (_officer_of_scope,),
    Action.DIRECTORY_VIEW: (_officer_of_scope, _convener_of_scope),
    Action.ROUND_PROPOSE: (_officer_of_scope,),
    Action.ROUND_RESPOND: (_officer_of_scope,),
    Action.ROUND_APPROVE: (_convener_of_scope,),
    Action.ROUND_SEED: (_convener_of_scope,),
    Action.ROUND_DRAW: (_convener_of_scope,),
    # The operator answers for the platform (README): they see every round, as they archive any.
    Action.ROUND_VIEW: (_convener_of_scope, _officer_of_scope, _inspector_on_team, _admin),
    Action.ROUND_ARCHIVE: (_convener_of_scope, _officer_of_scope, _admin),
    Action.TASK_STAFF: (_officer_of_scope,),
    Action.TASK_VIEW: (_inspector_on_team, _officer_of_scope, _convener_of_scope),
    Action.RESULT_SUBMIT: (_inspector_on_team,),
    Action.RESULT_REVIEW: (_officer_of_scope,),
    Action.RESULT_PUBLISH: (_officer_of_scope,),
    Action.STATS_VIEW: (_convener_of_scope, _officer_of_scope, _admin),
    # A case lead is the department's own: its officers open and close it; the convener of the
    # target's region sees it (a case keeps its target out of every department's random draws).
    Action.CASE_MANAGE: (_officer_of_scope,),
    Action.CASE_VIEW: (_officer_of_scope, _convener_of_scope, _admin),
    Action.USERS_VIEW: (_admin,),
    Action.CALENDAR_IMPORT: (_admin,),
}


def can(actor: Actor, action: Action, scope: Scope = Scope()) -> bool:
    rules = RULES[action]
    return any(rule(grant, scope) for grant in actor.grants for rule in rules)


def authorize(actor: Actor, action: Action, scope: Scope = Scope()) -> None:
    """Raise PermissionDenied (and log who tried what) unless the actor may act on this scope."""
    if can(actor, action, scope):
        return
    log.warning(
        "refused %s for %s (user %s) on departments=%s region=%s",
        action.value,
        actor.label,
        actor.user_id,
        sorted(scope.departments),
        scope.region,
    )
    raise PermissionDenied(f"not allowed: {action.value}")


@dataclass(frozen=True)
class Reach:
    """Everything an action may touch for this actor, to filter lists in SQL by the same rules."""

    everything: bool = False
    departments: frozenset[int] = frozenset()
    regions: tuple[str, ...] = ()
    inspectors: frozenset[int] = frozenset()


def reach(actor: Actor, action: Action) -> Reach:
    """Each grant reaches its own scope when the rules let it act there; raises when none does."""
    everything, departments, regions, inspectors = False, set(), [], set()
    for grant in actor.grants:
        own = Scope.of(
            departments=[grant.department_id], region=grant.region, inspectors=[grant.inspector_id] if grant.inspector_id else []
        )
        if not any(rule(grant, own) for rule in RULES[action]):
            continue
        if grant.role == Role.ADMIN:
            everything = True
        if grant.department_id is not None:
            departments.add(grant.department_id)
        if grant.region:
            regions.append(grant.region)
        if grant.inspector_id is not None:
            inspectors.add(grant.inspector_id)
    result = Reach(everything, frozenset(departments), tuple(regions), frozenset(inspectors))
    if result == Reach():
        authorize(actor, action, Scope())  # logs and raises, as any refusal
    return result
