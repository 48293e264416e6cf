"""Runtime settings, read from `CARRIERDESK_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, IPvAnyNetwork, SecretStr, model_validator
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
    # Private networks an operator lets webhooks and hubs reach all the same (a receiver
    # on the same host, `["127.0.0.1/32"]`); every other private address stays refused.
    webhook_allowed_networks: list[IPvAnyNetwork] = Field(default_factory=list)
    # Mail in (docs/MAIL.md): the SMTP listener's host:port, and an IMAP mailbox to poll
    # (imap[s]://user:password@host[:port]/INBOX), whose processed mail moves to a folder.
    inbound_smtp: str | None = None
    imap_url: str | None = None
    imap_done_folder: str = "Carrier Desk"
    imap_poll_seconds: float = Field(default=60.0, gt=0)
    # Tests only: `<before_commit|after_commit>:<marker file>` makes the listener write the
    # marker and stop at that point of taking a message, so a test can kill it there.
    inbound_test_pause: str | None = None
    cors_origins: list[str] = Field(default_factory=list)
    log_level: str = "INFO"
    env: Literal["development", "test", "production"] = "development"
    public_url: str = "http://127.0.0.1:8000"
    max_body_bytes: int = 1_048_576
    # One attached file, and all the files of one ticket or billing request together.
    attachment_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    attachment_total_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    # Connections each process keeps once it has needed them (opened as needed, not at start).
    # Concurrency beyond it is served by overflow connections that are closed when returned, so
    # a pool smaller than the usual number of requests in flight opens and closes a connection
    # (connect, authenticate, type introspection) for many requests: with 20 kept, intake at 32
    # connections ran at 312 req/s, with 40 at 480 (docs/BENCHMARKS.md, #14).
    db_pool_size: int = Field(default=40, ge=1)
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    sla_safety_sweep_seconds: float = 15.0
    # How long a claimed webhook delivery is held without news from its worker. The worker
    # renews the lease while the attempt is in flight, so a short lease only decides how
    # soon a dead worker's claim (and its endpoint's ordered queue) passes to another.
    webhook_lease_seconds: float = Field(default=6.0, ge=1.0, le=300.0)
    # The whole of one attempt (resolving, connecting, sending, reading the answer): a
    # receiver dripping its answer byte by byte is cut off here, not at each read.
    webhook_attempt_seconds: float = Field(default=15.0, gt=0.0, le=120.0)
    # Live event streams: how many one caller may hold open (per process), how often an open
    # stream asks again whether its credentials still hold, how often new events are looked for.
    stream_max_per_caller: int = Field(default=4, ge=1)
    stream_recheck_seconds: float = Field(default=5.0, gt=0)
    stream_poll_seconds: float = Field(default=1.0, gt=0)
    # Prometheus metrics tell an outsider the traffic and the error rates: `/metrics` on the
    # public port answers only a bearer of this token; unset, it answers 404 there.
    metrics_token: SecretStr | None = None
    # Or serve `/metrics` (without a token) on a separate address only the scraper reaches,
    # `host:port`, next to the API's own port.
    metrics_bind: str | None = Field(default=None, pattern=r"^\[?[^\s\]]+\]?:\d{1,5}$")
    # FastAPI's own OpenTelemetry spans, metrics and logs, for a deployment that runs `serve`
    # under an OpenTelemetry SDK (`opentelemetry-instrument`). Off, no request asks whether one
    # is configured: FastAPI asks on every request, ~3 % of a hot read's CPU for nothing.
    opentelemetry: bool = False

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
