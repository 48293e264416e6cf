"""The committed OpenAPI document is generated from the app, never written by hand."""

from __future__ import annotations

import json

from app.core.settings import Settings


def render_openapi() -> str:
    from app.main import create_app

    app = create_app(Settings(env="development", database_url="postgresql+asyncpg://unused/unused"))
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
