"""Apply and inspect the Alembic migrations from code (the CLI, start-up, tests)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

# An arbitrary constant shared by every Carrier Desk process: the key of the
# advisory lock that serialises schema upgrades.
MIGRATION_LOCK_KEY = 7_245_113_901

PROJECT_ROOT = Path(__file__).resolve().parents[2]
URL_ENV = "CARRIERDESK_MIGRATION_URL"


def alembic_config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = url
    return config


def database_url_for_alembic(config: Config) -> str:
    url = config.attributes.get("database_url") or os.environ.get(URL_ENV)
    if url:
        return str(url)
    # The plain `alembic` command: resolve exactly as the service would.
    from app.core.database import resolve_database
    from app.core.settings import Settings

    return resolve_database(Settings()).url


def upgrade_to_head(url: str) -> None:
    """Blocking: run from sync code, or through `asyncio.to_thread` inside a loop."""
    command.upgrade(alembic_config(url), "head")


async def upgrade_to_head_async(url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, url)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def is_at_head(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        current = await conn.run_sync(_current_revision)
    return current == head_revision()
