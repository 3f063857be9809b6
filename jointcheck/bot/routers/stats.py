"""`/stats [YEAR]`: the year's statistics as a short text and a chart, for conveners and officers.

The figures are core's (services/stats.py, over the rounds the user may see); the chart is drawn
off the event loop, since matplotlib takes a good part of a second of CPU.
"""

from __future__ import annotations

import asyncio

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message

from jointcheck.bot.commands import spec_of
from jointcheck.bot.filters import HasRole
from jointcheck.bot.texts import Texts
from jointcheck.core.authz import Actor
from jointcheck.core.services.stats import statistics
from jointcheck.core.uow import UnitOfWork


def create_router() -> Router:
    router = Router(name="stats")
    router.message.register(show_stats, Command("stats"), HasRole(*spec_of("stats").roles))
    return router


def _chart(stats, gettext) -> bytes:
    # Imported here, in the worker thread: matplotlib loads (and on a fresh machine builds its
    # font cache) on the first /stats, neither at start nor on the event loop.
    from jointcheck.core.charts import stats_png

    return stats_png(stats, gettext)


def _percent(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "—"


async def show_stats(message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor, texts: Texts) -> None:
    argument = (command.args or "").strip()
    if argument and not (argument.isascii() and argument.isdigit() and len(argument) == 4):
        await message.answer(texts.render("stats/usage.html"))
        return
    stats = await statistics(uow, actor, year=int(argument) if argument else None)
    completion, publication = stats.completion, stats.publication_total
    done = completion.on_time + completion.late + completion.overdue
    published = publication.on_time + publication.late + publication.overdue
    coverage = stats.coverage_by_department()
    text = texts.render(
        "stats/summary.html",
        year=stats.year,
        coverage=[{"department": d, "checked": c, "planned": p, "rate": _percent(c, p)} for d, (p, c) in coverage.items()],
        results=stats.results,
        problems=stats.problems,
        problem_rate=_percent(stats.problems, stats.results),
        on_time=completion.on_time,
        settled=done,
        completion_rate=_percent(completion.on_time, done),
        published_on_time=publication.on_time,
        published_settled=published,
        publication_rate=_percent(publication.on_time, published),
        rounds=len(stats.caps),
        caps_respected=stats.caps_respected,
        loads=[{"department": w.department, "least": w.least, "most": w.most, "mean": f"{w.mean:.1f}"} for w in stats.load],
        raised=sum(m.targets for m in stats.credit if m.reason == "raise"),
        lowered=sum(m.targets for m in stats.credit if m.reason == "lower"),
    )
    await message.answer(text)
    png = await asyncio.to_thread(_chart, stats, texts.gettext)
    await message.answer_photo(BufferedInputFile(png, filename=f"stats-{stats.year}.png"))
