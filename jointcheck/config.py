"""Settings read from JOINTCHECK_* environment variables."""

from __future__ import annotations

from functools import lru_cache

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
    timezone: str = "Asia/Shanghai"
    invite_ttl_hours: int = 72
    site_host: str = "127.0.0.1"
    site_port: int = 8080
    data_dir: str = "./jointcheck-data"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
