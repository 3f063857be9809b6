"""Cases in chat (个案): `/case CODE SOURCE CERT[,CERT…] [summary]` opens one, `/cases` lists them.

One line is enough to record a lead while on the phone with the complainant: the target's code,
where the lead came from (投诉 / 转办 / 监测, or complaint / referral / monitoring), the inspectors'
certificate numbers, and what it is about. The department is the named inspectors' own; core
decides whether this officer may open a case for it, and refuses anything else with a reason.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from jointcheck.bot.commands import spec_of
from jointcheck.bot.filters import HasRole
from jointcheck.bot.long_text import send_long
from jointcheck.bot.texts import N_, Texts
from jointcheck.core.authz import Actor
from jointcheck.core.services.cases import SOURCES, list_cases, open_case
from jointcheck.core.uow import UnitOfWork

# What an officer may type for each source, in either language.
SOURCE_WORDS = {
    "complaint": "complaint",
    "投诉": "complaint",
    "举报": "complaint",
    "referral": "referral",
    "转办": "referral",
    "移送": "referral",
    "monitoring": "monitoring",
    "监测": "monitoring",
}
SOURCE_LABELS = {"complaint": N_("complaint"), "referral": N_("referral"), "monitoring": N_("data monitoring")}


def create_router() -> Router:
    router = Router(name="cases")
    router.message.register(record_case, Command("case"), HasRole(*spec_of("case").roles))
    router.message.register(show_cases, Command("cases"), HasRole(*spec_of("cases").roles))
    return router


def _labels(texts: Texts) -> dict[str, str]:
    return {source: texts.gettext(label) for source, label in SOURCE_LABELS.items()}


async def record_case(message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor, texts: Texts) -> None:
    words = (command.args or "").split(maxsplit=3)
    source = SOURCE_WORDS.get(words[1].lower()) if len(words) >= 2 else None
    if len(words) < 3 or source is None:
        await message.answer(texts.render("cases/usage.html", sources=[_labels(texts)[s] for s in SOURCES]))
        return
    code, _, certs, *rest = words
    certificates = tuple(c for c in certs.replace("，", ",").split(",") if c)
    # The case belongs to the named inspectors' department (core finds it, and decides whether
    # this officer may open a case for it).
    view = await open_case(uow, actor, None, code, source, certificates, summary=rest[0] if rest else "")
    await uow.commit()
    await message.answer(
        texts.render(
            "cases/opened.html",
            case_id=view.case_id,
            task_id=view.task_id,
            target=view.target_name,
            code=view.target_code,
            source=_labels(texts)[view.source],
            inspectors=list(certificates),
        )
    )


async def show_cases(message: Message, uow: UnitOfWork, actor: Actor, texts: Texts) -> None:
    cases = await list_cases(uow, actor, limit=30)
    labels = _labels(texts)
    entries = [
        {
            "id": c.case_id,
            "target": c.target_name,
            "code": c.target_code,
            "source": labels.get(c.source, c.source),
            "summary": c.summary,
            "task_id": c.task_id,
            "department": c.department_code,
            "opened": c.opened_at.date().isoformat(),
        }
        for c in cases
    ]
    await send_long(message.bot, message.chat.id, texts.render("cases/list.html", cases=entries))
