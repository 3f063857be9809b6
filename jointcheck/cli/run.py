"""`jointcheck run`: the service in one process (the bot, the outbox sender, the site)."""

from __future__ import annotations


def register(commands) -> None:
    parser = commands.add_parser(
        "run",
        help="run the service (bot, notification sender, site) until interrupted",
        description="Run the Telegram bot (long polling), the notification sender and the site "
        "(JOINTCHECK_SITE_HOST / JOINTCHECK_SITE_PORT, health check at /healthz) until Ctrl-C or SIGTERM. "
        "Needs JOINTCHECK_BOT_TOKEN; JOINTCHECK_BOT_API_URL points the bot at another Bot API server "
        "(self-hosted, or the emulator).",
    )
    parser.add_argument(
        "--webhook",
        action="store_true",
        help="take updates on the site at JOINTCHECK_WEBHOOK_PATH instead of polling (needs JOINTCHECK_WEBHOOK_URL "
        "and JOINTCHECK_WEBHOOK_SECRET); run several such workers on one PostgreSQL with JOINTCHECK_REDIS_URL, "
        "on one port with JOINTCHECK_SITE_REUSE_PORT=1 or behind a proxy",
    )
    parser.set_defaults(handler=run_command)


async def run_command(args, settings) -> int:
    from jointcheck.service import Service

    await Service(settings, webhook=args.webhook).run()
    return 0
