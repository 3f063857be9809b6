"""`/credit CODE`: a target's credit-risk class, how the credit loop moved it, and its published
results, for the officers who supervise it and the conveners of its region (core decides)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from jointcheck.bot.commands import spec_of
from jointcheck.bot.filters import HasRole
from jointcheck.bot.long_text import send_long
from jointcheck.bot.texts import N_, Texts
from jointcheck.core.authz import Actor
from jointcheck.core.clock import local_date
from jointcheck.core.services.credit import target_history
from jointcheck.core.uow import UnitOfWork

REASONS = {"raise": N_("raised"), "lower": N_("lowered")}


def create_router() -> Router:
    router = Router(name="credit")
    router.message.register(show_history, Command("credit"), HasRole(*spec_of("credit").roles))
    return router


async def show_history(message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor, texts: Texts) -> None:
    code = (command.args or "").strip()
    if not code or len(code) > 64 or any(c.isspace() for c in code):
        await message.answer(texts.render("credit/usage.html"))
        return
    history = await target_history(uow, actor, code)
    text = texts.render(
        "credit/history.html",
        name=history.name,
        code=history.code,
        risk=history.risk,
        changes=[
            {
                "day": local_date(c.at).isoformat(),
                "reason": texts.gettext(REASONS.get(c.reason, c.reason)),
                "from": c.from_class,
                "to": c.to_class,
                "categories": list(c.categories),
                "round_id": c.round_id,
            }
            for c in history.changes
        ],
        results=[
            {
                "day": local_date(r.published_at).isoformat() if r.published_at else "",
                "item": r.item_code,
                "category": r.category,
                "round_id": r.round_id,
            }
            for r in history.results
        ],
    )
    await send_long(message.bot, message.chat.id, text)
