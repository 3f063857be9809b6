"""The credit loop's policy: which published result categories move a target's risk class, and how.

The policy is a TOML file the operator can read and change (policies/credit.toml is the default,
JOINTCHECK_CREDIT_POLICY names another). `decide` is the whole rule, a pure function of a target's
class and its published inspections, so it can be tested on hand-made histories and re-derived
from the audit trail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jointcheck.core.errors import InvalidInput
from jointcheck.core.result_categories import CATEGORIES

DEFAULT_POLICY = Path(__file__).resolve().parent / "policies" / "credit.toml"
POLICY_ENV = "JOINTCHECK_CREDIT_POLICY"


@dataclass(frozen=True)
class CreditPolicy:
    classes: tuple[str, ...]  # lowest risk first
    unclassified_as: str
    raise_steps: dict[str, int]  # category → steps up
    clean: frozenset[str]
    clean_inspections: int
    clean_days: int
    source: str  # the file it was read from
    text: str  # the file as written, what `jointcheck credit policy` prints
    sha256: str

    def kind_of(self, category: str) -> str:
        """problem, clean or neutral."""
        if category in self.raise_steps:
            return "problem"
        return "clean" if category in self.clean else "neutral"


@dataclass(frozen=True)
class Inspection:
    """One task's published results of a target: when they were published and their categories."""

    task_id: int
    published_at: dt.datetime
    categories: frozenset[str]


@dataclass(frozen=True)
class Decision:
    reason: str  # raise | lower
    from_class: str
    to_class: str
    categories: tuple[str, ...]  # what decided it


def parse_policy(text: str, source: str = "<text>") -> CreditPolicy:
    """The policy in a TOML text, checked whole: a bad file says what is wrong and where."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"credit policy {source}: not valid TOML ({exc})") from None

    def fail(why: str):
        raise InvalidInput(f"credit policy {source}: {why}")

    classes = data.get("classes")
    if not isinstance(classes, list) or len(classes) < 2 or not all(isinstance(c, str) and len(c) == 1 for c in classes):
        fail("`classes` must list at least two one-letter classes, lowest risk first")
    if len(set(classes)) != len(classes):
        fail("`classes` names a class twice")
    unclassified = data.get("unclassified_as", classes[0])
    if unclassified not in classes:
        fail(f"`unclassified_as` {unclassified!r} is not one of the classes")
    raises = data.get("raise", {})
    lower = data.get("lower", {})
    if not isinstance(raises, dict) or not isinstance(lower, dict):
        fail("[raise] and [lower] must be tables")
    for category, steps in raises.items():
        if category not in CATEGORIES:
            fail(f"[raise] names {category!r}, which is not a standard result category ({', '.join(CATEGORIES)})")
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
            fail(f"[raise] {category} must be a whole number of steps, 1 or more")
    clean = lower.get("clean", [])
    if not isinstance(clean, list) or not all(c in CATEGORIES for c in clean):
        fail(f"[lower] clean must list standard result categories ({', '.join(CATEGORIES)})")
    both = sorted(set(clean) & set(raises))
    if both:
        fail(f"{', '.join(both)} cannot be both a problem and clean")
    inspections, days = lower.get("inspections", 2), lower.get("days", 365)
    for name, value in (("inspections", inspections), ("days", days)):
        if not isinstance(value, int) or isinstance(value, bool) or value < (1 if name == "inspections" else 0):
            fail(f"[lower] {name} must be a whole number" + (", 1 or more" if name == "inspections" else ", 0 or more"))
    return CreditPolicy(
        classes=tuple(classes),
        unclassified_as=unclassified,
        raise_steps=dict(raises),
        clean=frozenset(clean),
        clean_inspections=inspections,
        clean_days=days,
        source=source,
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def load_policy(path: str | os.PathLike[str] | None = None) -> CreditPolicy:
    path = Path(path) if path else DEFAULT_POLICY
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"credit policy {path}: cannot be read ({exc.strerror})") from None
    return parse_policy(text, str(path))


@cache
def _cached(path: str | None) -> CreditPolicy:
    return load_policy(path)


def active_policy() -> CreditPolicy:
    """The policy in force: the file JOINTCHECK_CREDIT_POLICY names, or the shipped default.
    Read once per process (a changed file takes effect at the next start, as any setting)."""
    return _cached(os.environ.get(POLICY_ENV) or None)


def decide(policy: CreditPolicy, current: str, history: Sequence[Inspection]) -> Decision | None:
    """The change of class, if any, after the last inspection of `history`.

    `history`: the target's published inspections since its class last changed, oldest first; the
    last one is the inspection just published. A problem raises the class by the largest step of
    its categories; otherwise a run of clean inspections at the end of the history (none with a
    problem, neutral ones neither breaking nor counting) lowers it by one step once it has
    `clean_inspections` inspections and spans `clean_days` days.
    """
    if not history:
        return None
    ladder = policy.classes
    position = ladder.index(current if current in ladder else policy.unclassified_as)
    last = history[-1]
    problems = sorted(c for c in last.categories if policy.kind_of(c) == "problem")
    if problems:
        steps = max(policy.raise_steps[c] for c in problems)
        to = ladder[min(position + steps, len(ladder) - 1)]
        return Decision("raise", current, to, tuple(problems)) if to != current else None
    if not any(policy.kind_of(c) == "clean" for c in last.categories):
        return None
    run: list[Inspection] = []
    for inspection in reversed(history):
        kinds = {policy.kind_of(c) for c in inspection.categories}
        if "problem" in kinds:
            break
        if "clean" in kinds:
            run.append(inspection)
    run.reverse()
    if len(run) < policy.clean_inspections:
        return None
    if (run[-1].published_at - run[0].published_at) < dt.timedelta(days=policy.clean_days):
        return None
    to = ladder[max(position - 1, 0)]
    if to == current:
        return None
    return Decision("lower", current, to, tuple(sorted(set().union(*(i.categories for i in run)) & policy.clean)))
