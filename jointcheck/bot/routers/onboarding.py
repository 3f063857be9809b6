"""Onboarding: /start with an invite code, /start without one, /help, /lang."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from jointcheck.bot.callbacks import LanguageChoice
from jointcheck.bot.commands import commands_for, set_chat_menu
from jointcheck.bot.filters import OwnButton
from jointcheck.bot.keyboards import language_keyboard
from jointcheck.bot.texts import LANGUAGE_NAMES, Texts
from jointcheck.core.authz import Actor
from jointcheck.core.errors import Conflict, NotFound
from jointcheck.core.models import Role
from jointcheck.core.services.invites import redeem_invite
from jointcheck.core.services.users import actor_of, grant_scope, set_language
from jointcheck.core.uow import UnitOfWork
from jointcheck.i18n import LANGUAGES

log = logging.getLogger("jointcheck.bot")

# The core's refusal codes of redeem_invite, to the reason keys the template
# onboarding/invite_refused.html explains in the reader's language.
INVITE_REFUSALS = {
    "invite.invalid": "invalid",
    "invite.used": "used",
    "invite.expired": "expired",
    "invite.inspector_taken": "inspector_taken",
    "invite.role_held": "role_held",
}


def create_router() -> Router:
    router = Router(name="onboarding")
    private = F.chat.type == "private"
    router.message.register(start_with_code, CommandStart(deep_link=True), private)
    router.message.register(start_without_code, CommandStart(), private)
    router.message.register(show_help, Command("help"))
    router.message.register(ask_language, Command("lang"))
    router.callback_query.register(language_chosen, LanguageChoice.filter(F.language.in_(set(LANGUAGES))), OwnButton())
    return router


async def start_with_code(message: Message, command: CommandObject, uow: UnitOfWork, texts: Texts, bot: Bot) -> None:
    sender = message.from_user
    try:
        user, grant = await redeem_invite(uow, command.args, sender.id, sender.full_name, texts.language, sender.username)
    except (NotFound, Conflict) as error:
        await uow.rollback()
        log.info("invite refused for tg:%s: %s", sender.id, error)
        reason = INVITE_REFUSALS.get(error.code, "other")
        await message.answer(texts.render("onboarding/invite_refused.html", reason=reason))
        return
    actor = await actor_of(uow, user)
    scope = await grant_scope(uow, grant)
    await uow.commit()
    await set_chat_menu(bot, message.chat.id, actor, texts)
    await message.answer(
        texts.render(
            "onboarding/bound.html",
            name=sender.full_name,
            role=grant.role,
            scope=scope,
            commands=_listed(actor, texts),
        )
    )


async def start_without_code(message: Message, actor: Actor, texts: Texts) -> None:
    await message.answer(
        texts.render(
            "onboarding/start_no_code.html",
            roles=_roles(actor),
            bot_username=(await message.bot.me()).username,
        )
    )


async def show_help(message: Message, actor: Actor, texts: Texts) -> None:
    await message.answer(texts.render("onboarding/help.html", roles=_roles(actor), commands=_listed(actor, texts)))


async def ask_language(message: Message, texts: Texts) -> None:
    await message.answer(texts.render("onboarding/language_prompt.html"), reply_markup=language_keyboard(owner=message.from_user.id))


async def language_chosen(
    query: CallbackQuery, callback_data: LanguageChoice, uow: UnitOfWork, actor: Actor, bot: Bot, callback_answer: CallbackAnswer
) -> None:
    language = callback_data.language
    await set_language(uow, actor, query.from_user.id, query.from_user.full_name, language)
    await uow.commit()
    texts = Texts(language)
    confirmation = texts.render("onboarding/language_set.html", language=LANGUAGE_NAMES[language])
    if isinstance(query.message, Message):
        await query.message.edit_text(confirmation)
    elif query.message is not None:  # too old to edit
        await bot.send_message(query.message.chat.id, confirmation)
    await set_chat_menu(bot, query.from_user.id, actor, texts)  # the user's private chat
    callback_answer.text = LANGUAGE_NAMES[language]


def _roles(actor: Actor) -> list[str]:
    return sorted({grant.role.value for grant in actor.grants}, key=[r.value for r in Role].index)


def _listed(actor: Actor, texts: Texts) -> list[dict[str, str]]:
    return [{"command": spec.command, "description": texts.gettext(spec.description)} for spec in commands_for(actor)]
