"""Runtime settings, read from `CARRIERDESK_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CARRIERDESK_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the PostgreSQL server; unset starts an embedded one.",
    )
    data_dir: Path = Path("./.carrierdesk")
    admin_token: SecretStr | None = None
    smtp_url: str | None = None
    smtp_from: str = "Carrier Desk <noreply@carrierdesk.invalid>"
    webhook_allow_private: bool = False
    cors_origins: list[str] = Field(default_factory=list)
    log_level: str = "INFO"
    env: Literal["development", "test", "production"] = "development"
    public_url: str = "http://127.0.0.1:8000"
    max_body_bytes: int = 1_048_576
    db_pool_size: int = 20
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    sla_safety_sweep_seconds: float = 15.0
    # How long a webhook attempt in flight holds its delivery; a worker that
    # died mid-attempt releases it (and its endpoint's queue) after this.
    # Must exceed the request timeout (10 s) plus recording the outcome.
    webhook_lease_seconds: float = Field(default=60.0, ge=15.0)
    # Prometheus metrics tell an outsider the traffic and the error rates: `/metrics` on the
    # public port answers only a bearer of this token; unset, it answers 404 there.
    metrics_token: SecretStr | None = None
    # Or serve `/metrics` (without a token) on a separate address only the scraper reaches,
    # `host:port`, next to the API's own port.
    metrics_bind: str | None = Field(default=None, pattern=r"^\[?[^\s\]]+\]?:\d{1,5}$")

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        # A production deployment must name its database and its bootstrap
        # admin: an embedded server or an installation nobody can administer
        # is a development convenience, never something to run customers on.
        if self.env == "production":
            if not self.database_url:
                raise ValueError("CARRIERDESK_ENV=production needs CARRIERDESK_DATABASE_URL")
            if self.admin_token is None:
                raise ValueError("CARRIERDESK_ENV=production needs CARRIERDESK_ADMIN_TOKEN")
            if len(self.admin_token.get_secret_value()) < 32:
                raise ValueError("CARRIERDESK_ADMIN_TOKEN must be at least 32 characters")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
