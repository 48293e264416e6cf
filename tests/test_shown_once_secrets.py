"""A token or signing secret is shown once: the stored `Idempotency-Key` answer never keeps it,
and a retry learns what was created and that the secret is gone, not the secret."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from app.core.roles import Role
from app.core.settings import Settings
from app.openapi_doc import render_openapi
from tests.support.world import World


@pytest.fixture
def settings() -> Settings:
    # Webhook URLs on loopback (nothing is delivered here).
    return Settings(
        env="test", database_url="postgresql+asyncpg://unused/unused", webhook_allow_private=True
    )


async def _stored_answer(world: World, key: str) -> str:
    async with world.sessionmaker() as session:
        row = (
            await session.execute(
                text("SELECT body::text, headers::text FROM idempotency_records WHERE key = :k"),
                {"k": key},
            )
        ).one()
    return f"{row[0]} {row[1]}"


async def _create_twice(
    world: World, path: str, body: dict[str, Any], headers: dict[str, str], field: str
) -> None:
    key = f"shown-once {path}"
    keyed = {**headers, "Idempotency-Key": key}
    first = await world.client.post(path, json=body, headers=keyed)
    assert first.status_code == 201, first.text
    secret = first.json()[field]
    assert len(secret) > 20

    assert secret not in await _stored_answer(world, key)

    again = await world.client.post(path, json=body, headers=keyed)
    assert again.status_code == 409, again.text
    assert again.headers["content-type"] == "application/problem+json"
    assert again.headers["idempotent-replayed"] == "true"
    problem = again.json()
    assert problem["type"].endswith("/secret-shown-once")
    assert field in problem["detail"]
    # What was created, so the integrator can revoke it and start again.
    assert problem["resource"]["id"] == first.json()["id"]
    assert field not in problem["resource"]
    assert secret not in again.text

    # Another body under the same key is still refused as before.
    other_body = {**body, "description" if "description" in body else "name": "other"}
    other = await world.client.post(path, json=other_body, headers=keyed)
    assert other.status_code == 422


async def test_an_api_client_token_is_not_kept_in_the_stored_answer(world: World) -> None:
    acme = await world.enterprise("Acme", "EC")
    await _create_twice(
        world,
        "/v1/api-clients",
        {"name": "noc", "role": "customer_user", "enterprise_ids": [acme["id"]]},
        world.admin,
        "token",
    )


async def test_a_webhook_secret_is_not_kept_in_the_stored_answer(world: World) -> None:
    acme = await world.enterprise("Acme", "EC")
    admin = await world.api_client(Role.customer_admin, acme["id"])
    await _create_twice(
        world,
        "/v1/webhooks",
        {"url": "http://127.0.0.1:9/hook", "events": ["ticket.*"], "description": "noc"},
        admin,
        "secret",
    )


async def test_an_answer_without_a_secret_still_replays_whole(world: World) -> None:
    headers = {**world.admin, "Idempotency-Key": "plain-replay"}
    body = {"name": "Acme", "country": "EC"}
    first = await world.client.post("/v1/enterprises", json=body, headers=headers)
    again = await world.client.post("/v1/enterprises", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()


def test_every_secret_a_keyed_creation_answers_is_documented_shown_once() -> None:
    """The stored answer leaves out what is documented "shown once"; a token or secret field
    in a keyed creation's answer without that promise would be stored in clear."""
    document = json.loads(render_openapi())
    schemas = document["components"]["schemas"]
    checked = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", [])}
            if "Idempotency-Key" not in names:
                continue
            for answer in operation["responses"].values():
                ref = answer.get("content", {}).get("application/json", {}).get("schema", {})
                name = ref.get("$ref", "").rsplit("/", 1)[-1]
                for field, spec in schemas.get(name, {}).get("properties", {}).items():
                    if field.endswith(("token", "secret")):
                        checked.append((method, path, field))
                        assert "shown once" in spec.get("description", "").lower(), (path, field)
    assert ("post", "/v1/api-clients", "token") in checked
    assert ("post", "/v1/webhooks", "secret") in checked
