"""Tenancy and identity: who may see and administer what."""

from __future__ import annotations

from app.core.roles import Role
from tests.support.world import World, bearer


async def test_customer_admin_manages_its_own_enterprise_only(world: World) -> None:
    acme = await world.enterprise("Acme", "EC")
    other = await world.enterprise("Other", "PE")
    acme_admin = await world.api_client(Role.customer_admin, acme["id"])

    created = await world.client.post(
        "/v1/api-clients",
        json={"name": "noc", "role": "customer_user", "enterprise_ids": [acme["id"]]},
        headers=acme_admin,
    )
    assert created.status_code == 201
    assert created.json()["token"].startswith("cdk_")
    assert created.json()["enterprise_ids"] == [acme["id"]]

    foreign = await world.client.post(
        "/v1/api-clients",
        json={"name": "intruder", "role": "customer_user", "enterprise_ids": [other["id"]]},
        headers=acme_admin,
    )
    assert foreign.status_code == 404
    assert foreign.headers["content-type"] == "application/problem+json"

    assert (
        await world.client.get(f"/v1/enterprises/{other['id']}", headers=acme_admin)
    ).status_code == 404
    assert (
        await world.client.get(f"/v1/enterprises/{acme['id']}", headers=acme_admin)
    ).status_code == 200
    listed = (await world.client.get("/v1/enterprises", headers=acme_admin)).json()
    assert [e["id"] for e in listed["items"]] == [acme["id"]]


async def test_customer_admin_cannot_grant_staff_roles(world: World) -> None:
    acme = await world.enterprise()
    acme_admin = await world.api_client(Role.customer_admin, acme["id"])
    response = await world.client.post(
        "/v1/api-clients",
        json={"name": "x", "role": "tsc_engineer", "enterprise_ids": []},
        headers=acme_admin,
    )
    assert response.status_code == 403


async def test_revoked_token_is_refused(world: World) -> None:
    acme = await world.enterprise()
    created = await world.client.post(
        "/v1/api-clients",
        json={"name": "noc", "role": "customer_user", "enterprise_ids": [acme["id"]]},
        headers=world.admin,
    )
    token = {"Authorization": f"Bearer {created.json()['token']}"}
    assert (await world.client.get("/v1/me", headers=token)).status_code == 200
    revoked = await world.client.delete(
        f"/v1/api-clients/{created.json()['id']}", headers=world.admin
    )
    assert revoked.status_code == 204
    after = await world.client.get("/v1/me", headers=token)
    assert after.status_code == 401
    assert after.headers["www-authenticate"] == "Bearer"


async def test_customer_admin_cannot_revoke_another_enterprises_client(world: World) -> None:
    acme, other = await world.enterprise("Acme"), await world.enterprise("Other")
    acme_admin = await world.api_client(Role.customer_admin, acme["id"])
    other_client = await world.client.post(
        "/v1/api-clients",
        json={"name": "theirs", "role": "customer_user", "enterprise_ids": [other["id"]]},
        headers=world.admin,
    )
    response = await world.client.delete(
        f"/v1/api-clients/{other_client.json()['id']}", headers=acme_admin
    )
    assert response.status_code == 404
    listed = await world.client.get("/v1/api-clients", headers=acme_admin)
    assert other_client.json()["id"] not in [c["id"] for c in listed.json()["items"]]


async def test_no_token_and_garbage_token_are_401(world: World) -> None:
    assert (await world.client.get("/v1/enterprises")).status_code == 401
    garbage = await world.client.get(
        "/v1/enterprises", headers={"Authorization": "Bearer cdk_nope"}
    )
    assert garbage.status_code == 401
    assert garbage.json()["status"] == 401


async def test_services_are_listed_only_for_their_enterprise(world: World) -> None:
    acme, other = await world.enterprise("Acme"), await world.enterprise("Other")
    service = await world.service(acme["id"], city="Guayaquil")
    acme_user = await world.api_client(Role.customer_user, acme["id"])
    listed = await world.client.get(f"/v1/enterprises/{acme['id']}/services", headers=acme_user)
    assert [s["code"] for s in listed.json()["items"]] == [service["code"]]
    assert listed.json()["items"][0]["site"]["city"] == "Guayaquil"
    hidden = await world.client.get(f"/v1/enterprises/{other['id']}/services", headers=acme_user)
    assert hidden.status_code == 404


async def test_customer_user_cannot_create_api_clients(world: World) -> None:
    acme = await world.enterprise()
    user = await world.api_client(Role.customer_user, acme["id"])
    response = await world.client.post(
        "/v1/api-clients",
        json={"name": "x", "role": "customer_user", "enterprise_ids": [acme["id"]]},
        headers=user,
    )
    assert response.status_code == 403


async def test_users_hold_several_enterprises_with_a_default(world: World) -> None:
    acme, sister = await world.enterprise("Acme"), await world.enterprise("Acme Peru", "PE")
    response = await world.client.post(
        "/v1/users",
        json={
            "email": "Noc.Lead@Acme.example",
            "name": "NOC lead",
            "role": "customer_admin",
            "enterprise_ids": [acme["id"], sister["id"]],
            "default_enterprise_id": sister["id"],
        },
        headers=world.admin,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "noc.lead@acme.example"
    assert body["default_enterprise_id"] == sister["id"]
    assert sorted(body["enterprise_ids"]) == sorted([acme["id"], sister["id"]])


async def test_the_bootstrap_admin_token_is_exactly_the_configured_one(world: World) -> None:
    from app.seeding import ensure_bootstrap_admin

    token = "an-operator-chosen-bootstrap-token-of-some-length"
    async with world.sessionmaker() as session:
        await ensure_bootstrap_admin(session, world.clock, token)
        await ensure_bootstrap_admin(session, world.clock, token)  # idempotent
    headers = {"Authorization": f"Bearer {token}"}
    me = await world.client.get("/v1/me", headers=headers)
    assert me.json()["role"] == "provider_admin"
    created = await world.client.post(
        "/v1/enterprises", json={"name": "First customer", "country": "CO"}, headers=headers
    )
    assert created.status_code == 201


async def test_a_changed_bootstrap_admin_token_revokes_the_previous_one(world: World) -> None:
    from app.seeding import ensure_bootstrap_admin

    old = "the-first-bootstrap-token-of-some-length"
    new = "a-rotated-bootstrap-token-of-some-length"
    async with world.sessionmaker() as session:
        await ensure_bootstrap_admin(session, world.clock, old)
    assert (await world.client.get("/v1/me", headers=bearer(old))).status_code == 200
    async with world.sessionmaker() as session:
        await ensure_bootstrap_admin(session, world.clock, new)
    assert (await world.client.get("/v1/me", headers=bearer(new))).status_code == 200
    assert (await world.client.get("/v1/me", headers=bearer(old))).status_code == 401
    # Clients an administrator created are not bootstrap tokens: they stay.
    assert (await world.client.get("/v1/me", headers=world.admin)).status_code == 200
