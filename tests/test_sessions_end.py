"""Sessions end when the account does: a removed person's tokens stop working at once."""

from __future__ import annotations

import uuid

from app.core.roles import Role
from tests.support.world import USER_PASSWORD, World, bearer


async def test_removing_a_user_ends_its_sessions(world: World) -> None:
    acme = await world.enterprise("Acme Sessions", "EC")
    email = f"leaver-{uuid.uuid4().hex[:8]}@acme.example"
    created = await world.client.post(
        "/v1/users",
        json={
            "email": email,
            "name": "Leaver",
            "role": "customer_user",
            "enterprise_ids": [acme["id"]],
            "password": USER_PASSWORD,
        },
        headers=world.admin,
    )
    assert created.status_code == 201, created.text
    pair = (
        await world.client.post("/v1/auth/token", json={"email": email, "password": USER_PASSWORD})
    ).json()
    person = bearer(pair["access_token"])
    me = await world.client.get("/v1/me", headers=person)
    assert me.status_code == 200
    admin = await world.user(Role.customer_admin, acme["id"])
    removed = await world.client.delete(f"/v1/users/{me.json()['id']}", headers=admin)
    assert removed.status_code == 204, removed.text
    for path in ("/v1/me", "/v1/tickets"):
        answer = await world.client.get(path, headers=person)
        assert answer.status_code == 401, (path, answer.status_code)
        assert answer.headers["content-type"] == "application/problem+json"
    # Nor does the refresh token trade for a new pair.
    traded = await world.client.post(
        "/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert traded.status_code == 401
