"""Settings read from JOINTCHECK_* environment variables."""

from __future__ import annotations

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
    # The site (health check now; public pages and the webhook later). Port 0: any free port.
    site_host: str = "127.0.0.1"
    site_port: int = 8080
    # Seconds the outbox sender waits when nothing is pending.
    outbox_interval: float = 1.0

