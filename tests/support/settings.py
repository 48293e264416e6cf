"""The settings the suite's app runs with, one place for what every test's `settings` shares."""

from __future__ import annotations

from typing import Any

from app.core.settings import Settings

# The loopback receivers' network, allowed as an operator would allow one: the address guard
# stays strict for every other private address.
LOOPBACK = ["127.0.0.1/32"]


def suite_settings(**overrides: Any) -> Settings:
    """Test settings (the portal's URL set; the database is the fixture's, not this URL), with
    `overrides`."""
    return Settings(
        env="test",
        database_url="postgresql+asyncpg://unused/unused",
        public_url="https://portal.test",
        **overrides,
    )
