"""The standard result categories of SPEC section 6 and the follow-up actions.

Labels here are gettext message ids (English); the catalogs under jointcheck/locales translate them.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a message for extraction without translating it here: core knows no language."""
    return message


CATEGORIES: dict[str, str] = {
    "1": N_("no problem found"),
    "A": N_("problem found, follow-up pending"),
    "B": N_("required information not disclosed"),
    "C": N_("disclosed information false"),
    "E": N_("problem found, corrected on order"),
    "F": N_("no business activity covered by this check"),
    "6": N_("cannot be reached at registered address"),
    "7": N_("closed or in liquidation"),
    "8": N_("seriously obstructed the inspection"),
    "9": N_("deregistered / revoked / moved out"),
}

# "No problem" outcomes; every other category counts as a problem for the credit loop.
NO_PROBLEM = frozenset({"1", "F"})

FOLLOW_UPS: dict[str, str] = {
    "none": N_("none"),
    "order_correction": N_("order correction"),
    "case_lead": N_("transfer as a case lead"),
    "notify_department": N_("notify another department"),
}

ROLE_LABELS: dict[str, str] = {
    "admin": N_("platform administrator"),
    "convener": N_("convener"),
    "officer": N_("department officer"),
    "inspector": N_("inspector"),
}
