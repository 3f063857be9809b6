"""One router per feature, built fresh for each Dispatcher (a Router attaches to one parent only)."""

from __future__ import annotations

from aiogram import Router

from jointcheck.bot.routers import cases, convener, credit, fallback, invitations, onboarding, propose, review, rounds, stats, tasks


def feature_routers() -> list[Router]:
    """In order of precedence; the fallback router is not among them and always comes last."""
    return [
        onboarding.create_router(),
        invitations.create_router(),
        rounds.create_router(),
        convener.create_router(),
        tasks.create_router(),
        review.create_router(),
        propose.create_router(),
        cases.create_router(),
        credit.create_router(),
        stats.create_router(),
    ]


__all__ = [
    "cases",
    "convener",
    "credit",
    "fallback",
    "feature_routers",
    "invitations",
    "onboarding",
    "propose",
    "review",
    "rounds",
    "stats",
    "tasks",
]
