"""Settings read from JOINTCHECK_* environment variables."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOINTCHECK_", env_file=None, extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./jointcheck.db"
    # SecretStr keeps the token out of repr(), logs and validation errors.
    bot_token: SecretStr = SecretStr("")
    bot_api_url: str | None = None
    bot_username: str = "jointcheck_bot"
    redis_url: str | None = None
    invite_ttl_hours: int = 72
    # The site (health check; the webhook with `run --webhook`; public pages later). Port 0: any free port.
    site_host: str = "127.0.0.1"
    site_port: int = 8080
    # Several worker processes bind the same port (SO_REUSEPORT) and the kernel spreads the
    # connections among them: scale-out on one host without a proxy.
    site_reuse_port: bool = False
    # The public site's base URL as readers reach it (e.g. https://gongshi.example.gov.cn), for links
    # the bot sends; empty: the bot names the round without a link.
    site_url: str = ""
    # Where photos and documents inspectors send are kept, each file named by its SHA-256.
    files_dir: str = "./jointcheck-files"
    # `jointcheck run --webhook`: the public HTTPS URL Telegram posts updates to, the secret it sends
    # back in X-Telegram-Bot-Api-Secret-Token (1-256 of A-Z a-z 0-9 _ -), the path on the site.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_path: str = "/telegram/webhook"
    # On SIGTERM/SIGINT: seconds the updates being handled get to finish before they are cut off
    # (rolled back; a webhook's POST goes unanswered, so Telegram posts it again). Keep it under the
    # supervisor's own stop timeout, or the process is killed in the middle instead.
    shutdown_grace_seconds: float = 20.0
    # Seconds the outbox sender waits when nothing is pending.
    outbox_interval: float = 1.0
    # Telegram's flood limits, which the outbox sender keeps under (scheduler/rate_limits.py):
    # messages a second overall, a second to one chat, a minute to one group.
    outbox_rate_per_second: float = 30.0
    outbox_rate_per_chat_per_second: float = 1.0
    outbox_rate_per_group_per_minute: float = 20.0
    # The scheduler: how often it sweeps for due work, how often a follower retries to lead.
    sweep_seconds: float = 60.0
    leader_retry_seconds: float = 5.0
    # Reminders: days before a task's due date; working days to answer an invitation; working
    # days before the publication deadline (20 working days after completion) to warn.
    reminder_days: int = 3
    invitation_working_days: int = 3
    publication_warning_working_days: int = 5


def masked_url(url: str) -> str:
    """`url` fit for a log: a password in it, and every query value (tokens travel there), as ***."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"***@{host}"
    query = "&".join(f"{pair.split('=', 1)[0]}=***" for pair in parts.query.split("&")) if parts.query else ""
    return urlunsplit(parts._replace(netloc=netloc, query=query))
