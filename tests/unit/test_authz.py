"""The permission matrix: each role × each action, on its own scope and on someone else's."""

from __future__ import annotations

import logging

import pytest

from jointcheck.core.authz import Action, Actor, Grant, Scope, authorize, can
from jointcheck.core.errors import PermissionDenied
from jointcheck.core.models import Role

ACTORS = {
    "admin": Actor("admin", (Grant(Role.ADMIN),)),
    "convener": Actor("convener", (Grant(Role.CONVENER, region="440000"),)),
    "officer": Actor("officer", (Grant(Role.OFFICER, department_id=1),)),
    "inspector": Actor("inspector", (Grant(Role.INSPECTOR, inspector_id=7),)),
    "nobody": Actor("nobody", ()),
}
OWN = Scope.of(departments=[1], region="440106", inspectors=[7])
OTHER = Scope.of(departments=[2], region="350100", inspectors=[8])

ALLOWED_ON_OWN = {
    Action.DEPARTMENT_MANAGE: {"admin"},
    Action.INVITE_ISSUE: {"admin"},
    Action.AUDIT_VERIFY: {"admin"},
    Action.DIRECTORY_IMPORT: {"admin"},
    Action.USERS_VIEW: {"admin"},
    Action.CALENDAR_IMPORT: {"admin"},
    Action.ITEMS_MANAGE: {"officer"},
    Action.DIRECTORY_MANAGE: {"officer"},
    Action.DIRECTORY_VIEW: {"officer", "convener"},
    Action.ROUND_PROPOSE: {"officer"},
    Action.ROUND_RESPOND: {"officer"},
    Action.ROUND_APPROVE: {"convener"},
    Action.ROUND_SEED: {"convener"},
    Action.ROUND_DRAW: {"convener"},
    Action.ROUND_VIEW: {"convener", "officer", "inspector", "admin"},
    Action.ROUND_ARCHIVE: {"convener", "officer", "admin"},
    Action.TASK_STAFF: {"officer"},
    Action.TASK_VIEW: {"inspector", "officer", "convener"},
    Action.RESULT_SUBMIT: {"inspector"},
    Action.RESULT_REVIEW: {"officer"},
    Action.RESULT_PUBLISH: {"officer"},
    Action.STATS_VIEW: {"convener", "officer", "admin"},
    Action.CASE_MANAGE: {"officer"},
    Action.CASE_VIEW: {"officer", "convener", "admin"},
}
# The admin's powers are platform-wide; nobody else may act outside their own scope.
ADMIN_ACTIONS = {a for a, roles in ALLOWED_ON_OWN.items() if "admin" in roles}


def test_the_matrix_covers_every_action():
    assert set(ALLOWED_ON_OWN) == set(Action)


@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.value)
@pytest.mark.parametrize("who", list(ACTORS))
def test_own_scope(who, action):
    assert can(ACTORS[who], action, OWN) == (who in ALLOWED_ON_OWN[action])


@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.value)
@pytest.mark.parametrize("who", list(ACTORS))
def test_other_scope(who, action):
    expected = who == "admin" and action in ADMIN_ACTIONS
    assert can(ACTORS[who], action, OTHER) == expected


def test_convener_covers_only_regions_inside_the_jurisdiction():
    city = Actor("c", (Grant(Role.CONVENER, region="440100"),))
    assert can(city, Action.ROUND_APPROVE, Scope.of(region="440106"))
    assert can(city, Action.ROUND_APPROVE, Scope.of(region="440100"))
    assert not can(city, Action.ROUND_APPROVE, Scope.of(region="440000"))
    assert not can(city, Action.ROUND_APPROVE, Scope.of(region="440206"))
    assert not can(city, Action.ROUND_APPROVE, Scope.of(region=None))


def test_a_person_with_two_grants_gets_the_union():
    both = Actor("both", (Grant(Role.OFFICER, department_id=1), Grant(Role.INSPECTOR, inspector_id=7)))
    assert can(both, Action.RESULT_SUBMIT, OWN) and can(both, Action.RESULT_REVIEW, OWN)
    assert not can(both, Action.ROUND_APPROVE, OWN)


def test_refusal_raises_and_is_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="jointcheck.authz"):
        with pytest.raises(PermissionDenied, match="round.approve"):
            authorize(ACTORS["inspector"], Action.ROUND_APPROVE, OWN)
    assert "refused round.approve for inspector" in caplog.text
