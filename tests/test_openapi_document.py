"""The committed OpenAPI document is the app's own, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

from app.openapi_doc import render_openapi

COMMITTED = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"


def test_committed_openapi_matches_the_app() -> None:
    assert COMMITTED.read_text() == render_openapi(), (
        "openapi/openapi.json is stale: run `uv run carrierdesk openapi` and commit it"
    )


def test_every_list_answers_a_page() -> None:
    document = json.loads(COMMITTED.read_text())
    bare = set()
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for content in operation["responses"].get("200", {}).get("content", {}).values():
                if path.startswith("/v1/") and content.get("schema", {}).get("type") == "array":
                    bare.add(path)
    # The TMF621 face keeps TM Forum's bare arrays; every /v1 list is a page.
    assert not bare, sorted(bare)


def test_a_creation_links_to_the_operations_taking_its_id() -> None:
    document = json.loads(COMMITTED.read_text())
    created = document["paths"]["/v1/enterprises/{enterprise_id}/contacts"]["post"]["responses"]
    links = created["201"]["links"]
    reads = [link for link in links.values() if link["operationId"].startswith("get_contact")]
    assert reads[0]["parameters"] == {
        "contact_id": "$response.body#/id",
        "enterprise_id": "$request.path.enterprise_id",
    }
    assert {link["operationId"].split("_v1_")[0] for link in links.values()} == {
        "get_contact",
        "update_contact",
        "delete_contact",
    }


def test_times_of_day_are_documented_as_local_times() -> None:
    text = COMMITTED.read_text()
    assert '"format": "time"' not in text
    hours = json.loads(text)["components"]["schemas"]["OfficeHoursDay"]["properties"]
    assert hours["opens"]["pattern"].startswith("^([01][0-9]|2[0-3])")
