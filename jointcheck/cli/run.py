"""`jointcheck run`: the Telegram bot, long polling."""

from __future__ import annotations


def register(commands) -> None:
    parser = commands.add_parser(
        "run",
        help="run the Telegram bot (long polling) until interrupted",
        description="Run the Telegram bot with long polling until Ctrl-C. Needs JOINTCHECK_BOT_TOKEN; "
                    "JOINTCHECK_BOT_API_URL points it at another Bot API server (self-hosted, or the emulator). "
                    "For now this runs the bot only: the scheduler (timed draws, the notification sender) "
                    "and the public web site are not part of it yet.",
    )
    parser.set_defaults(handler=run_command)


async def run_command(args, settings) -> int:
    from jointcheck.bot.app import run_polling

    await run_polling(settings)
    return 0
