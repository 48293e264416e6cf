"""Create and drop test databases on the session's server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse, urlunparse

import asyncpg

from app.core.database import as_libpq_url


@dataclass
class ServerHandle:
    url_for: Callable[[str], str]
    embedded: Any = None

    @classmethod
    def from_url(cls, url: str) -> ServerHandle:
        parsed = urlparse(url)

        def url_for(database: str) -> str:
            return urlunparse(parsed._replace(path="/" + database))

        return cls(url_for=url_for)


async def _admin(server: ServerHandle) -> Any:
    return await asyncpg.connect(as_libpq_url(server.url_for("postgres")))


async def create_database(server: ServerHandle, name: str, template: str | None = None) -> None:
    conn = await _admin(server)
    try:
        suffix = f' TEMPLATE "{template}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{suffix}')
    finally:
        await conn.close()


async def drop_database(server: ServerHandle, name: str) -> None:
    conn = await _admin(server)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
