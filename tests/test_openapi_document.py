"""The committed OpenAPI document is the app's own, byte for byte."""

from __future__ import annotations

from pathlib import Path

from app.openapi_doc import render_openapi

COMMITTED = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"


def test_committed_openapi_matches_the_app() -> None:
    assert COMMITTED.read_text() == render_openapi(), (
        "openapi/openapi.json is stale: run `uv run carrierdesk openapi` and commit it"
    )
