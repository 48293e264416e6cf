"""Walk the committed OpenAPI document: operations, their bodies, their fields.

Used by the explicit bad-input tests so every operation, including ones
added later, gets the cases Schemathesis does not invent.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT: dict[str, Any] = json.loads((ROOT / "openapi" / "openapi.json").read_text())


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = DOCUMENT["components"]["schemas"][name]
    return schema


def non_null(schema: dict[str, Any]) -> dict[str, Any]:
    schema = resolve(schema)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [resolve(s) for s in schema[key] if resolve(s).get("type") != "null"]
            if options:
                return non_null(options[0])
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return non_null(schema["allOf"][0])
    return schema


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def body_schema(self) -> dict[str, Any] | None:
        content = self.spec.get("requestBody", {}).get("content", {})
        for media_type, entry in content.items():
            if "json" in media_type:
                return non_null(entry.get("schema", {}))
        return None

    def url(self) -> str:
        """The path with every parameter filled by a fresh id (unknown to the server)."""
        out = self.path
        for param in self.spec.get("parameters", []):
            if param["in"] == "path":
                schema = non_null(param.get("schema", {}))
                value = str(uuid.uuid4()) if schema.get("format") == "uuid" else "EC"
                out = out.replace("{" + param["name"] + "}", value)
        return out

    def query_params(self) -> list[tuple[str, dict[str, Any]]]:
        return [
            (p["name"], non_null(p.get("schema", {})))
            for p in self.spec.get("parameters", [])
            if p["in"] == "query"
        ]


def operations() -> Iterator[Operation]:
    for path, methods in DOCUMENT["paths"].items():
        for method, spec in methods.items():
            yield Operation(method.upper(), path, spec)


def body_operations() -> list[Operation]:
    return [op for op in operations() if op.body_schema() is not None]


def sample(schema: dict[str, Any], depth: int = 0) -> Any:
    """A plausible value for `schema`: required fields only, simplest choices."""
    schema = non_null(schema)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    fmt = schema.get("format")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {
            name: sample(props[name], depth + 1)
            for name in schema.get("required", [])
            if name in props and depth < 5
        }
    if kind == "array":
        return []
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    if fmt == "uuid":
        return str(uuid.uuid4())
    if fmt == "date-time":
        return "2026-11-23T15:00:00Z"
    if fmt == "date":
        return "2026-11-30"
    if fmt == "email":
        return "noc@acme.example"
    if fmt == "duration":
        return "PT1H"
    length = max(int(schema.get("minLength", 1)), 1)
    return "x" * length


def string_fields(schema: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(dotted path, schema) of every string-valued field of an object body, nested too."""
    schema = non_null(schema)
    for name, prop in schema.get("properties", {}).items():
        prop = non_null(prop)
        path = f"{prefix}{name}"
        if prop.get("type") == "string" and "enum" not in prop:
            yield path, prop
        elif prop.get("type") == "object" or "properties" in prop:
            yield from string_fields(prop, path + ".")


def with_value(body: dict[str, Any], dotted: str, value: Any, schema: dict[str, Any]) -> Any:
    """A copy of `body` with the field at `dotted` set (parents sampled when missing)."""
    out = json.loads(json.dumps(body))
    node = out
    node_schema = non_null(schema)
    parts = dotted.split(".")
    for part in parts[:-1]:
        child_schema = non_null(node_schema.get("properties", {}).get(part, {}))
        if not isinstance(node.get(part), dict):
            node[part] = sample(child_schema)
        node = node[part]
        node_schema = child_schema
    node[parts[-1]] = value
    return out
