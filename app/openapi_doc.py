"""The committed OpenAPI document is generated from the app, never written by hand.

`finish_document` adds, once, what FastAPI cannot say from the routes alone:
that times of day are local wall-clock times, and links from each creating
POST to the operations that take the id it answers (so a client, or
Schemathesis' stateful phase, can follow them).
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import FastAPI

from app.core.settings import Settings

# JSON Schema's `time` format is RFC 3339's full-time, which requires an
# offset; the API's times of day (office hours, maintenance windows) are local
# to a country and carry none.
LOCAL_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"
LOCAL_TIME_NOTE = "Local time of day, `HH:MM[:SS]`, without an offset."

_PARAM = re.compile(r"\{([^}]+)\}")


def _local_times(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("format") == "time":
            del node["format"]
            node["pattern"] = LOCAL_TIME
            node["description"] = " ".join(filter(None, (node.get("description"), LOCAL_TIME_NOTE)))
        for value in node.values():
            _local_times(value)
    elif isinstance(node, list):
        for value in node:
            _local_times(value)


def _answers_an_id(response: dict[str, Any], schemas: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return "id" in schema.get("properties", {})


def _link_creations(document: dict[str, Any]) -> None:
    """Every POST answering 201 with an `id` links to each operation under `<its path>/{param}`.

    The new id fills that parameter; the POST's own path parameters fill theirs
    (an operation that needs yet another id is left out).
    """
    paths: dict[str, dict[str, Any]] = document.get("paths", {})
    schemas = document.get("components", {}).get("schemas", {})
    for path, operations in paths.items():
        created = operations.get("post", {}).get("responses", {}).get("201")
        if created is None or not _answers_an_id(created, schemas):
            continue
        own = set(_PARAM.findall(path))
        links: dict[str, Any] = {}
        for target, target_operations in paths.items():
            match = re.fullmatch(re.escape(path) + r"/\{([^}/]+)\}(/.*)?", target)
            if match is None:
                continue
            new_id = match.group(1)
            needed = set(_PARAM.findall(target)) - {new_id}
            if not needed <= own:  # it takes another id too: not reachable from this answer
                continue
            parameters = {new_id: "$response.body#/id"}
            parameters.update({name: f"$request.path.{name}" for name in sorted(needed)})
            for method, operation in target_operations.items():
                links[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": parameters,
                    "description": f"{method.upper()} {target} with the `id` created here",
                }
        if links:
            created["links"] = dict(sorted(links.items()))


def finish_document(app: FastAPI) -> None:
    """Make `app.openapi()` describe local times and creation links (see the module's doc)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            _local_times(document)
            _link_creations(document)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def render_openapi() -> str:
    from app.main import create_app

    app = create_app(Settings(env="development", database_url="postgresql+asyncpg://unused/unused"))
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
