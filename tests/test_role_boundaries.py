"""Who reaches what: a `carrier` client (machine to machine, tickets only) reaches tickets and
its TMF621 face and nothing else; a `customer_user` reads and files but manages no users,
clients, webhooks or hubs."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.roles import Role
from app.core.settings import Settings
from tests.support.world import World

TMF = "/tmf-api/troubleTicket/v4"


@pytest.fixture
def settings() -> Settings:
    # Hub callbacks on loopback (nothing is delivered here).
    return Settings(
        env="test", database_url="postgresql+asyncpg://unused/unused", webhook_allow_private=True
    )


async def test_a_carrier_client_reaches_tickets_and_nothing_else(world: World) -> None:
    acme = await world.enterprise("Acme", "EC")
    carrier = await world.api_client(Role.carrier, acme["id"])
    refused: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/v1/mail-messages", None),
        ("GET", "/v1/billing-requests", None),
        ("GET", "/v1/orders", None),
        ("GET", f"/v1/enterprises/{acme['id']}/maintenance-feed", None),
        ("POST", f"/v1/enterprises/{acme['id']}/maintenance-feed/rotate", None),
        ("GET", "/v1/maintenances", None),
        ("GET", "/v1/change-requests", None),
        ("POST", "/v1/webhooks", {"url": "https://noc.example.com", "events": ["*"]}),
    ]
    for method, path, body in refused:
        answer = await world.client.request(method, path, json=body, headers=carrier)
        assert answer.status_code == 403, (method, path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    # Its own face stays open.
    assert (await world.client.get("/v1/tickets", headers=carrier)).status_code == 200
    assert (await world.client.get(f"{TMF}/troubleTicket", headers=carrier)).status_code == 200
    hub = await world.client.post(
        f"{TMF}/hub", json={"callback": "http://127.0.0.1:9/listener"}, headers=carrier
    )
    assert hub.status_code == 201, hub.text


async def test_a_customer_user_manages_no_users_clients_webhooks_or_hubs(world: World) -> None:
    acme = await world.enterprise("Acme", "EC")
    user = await world.api_client(Role.customer_user, acme["id"])
    admin = await world.api_client(Role.customer_admin, acme["id"])
    hub = await world.client.post(
        f"{TMF}/hub", json={"callback": "http://127.0.0.1:9/listener"}, headers=admin
    )
    assert hub.status_code == 201, hub.text
    refused: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", f"{TMF}/hub", {"callback": "http://127.0.0.1:9/mine"}),
        ("DELETE", f"{TMF}/hub/{hub.json()['id']}", None),
        ("POST", "/v1/webhooks", {"url": "https://noc.example.com", "events": ["*"]}),
        (
            "POST",
            "/v1/api-clients",
            {"name": "x", "role": "customer_user", "enterprise_ids": [acme["id"]]},
        ),
        ("GET", "/v1/api-clients", None),
        (
            "POST",
            "/v1/users",
            {
                "email": "x@acme.example",
                "name": "X",
                "role": "customer_user",
                "enterprise_ids": [acme["id"]],
            },
        ),
        ("GET", "/v1/users", None),
    ]
    for method, path, body in refused:
        answer = await world.client.request(method, path, json=body, headers=user)
        assert answer.status_code == 403, (method, path, answer.text)
    # It still reads and files.
    assert (await world.client.get("/v1/tickets", headers=user)).status_code == 200
    filed = await world.client.post(
        "/v1/billing-requests", json={"type": "inquiry", "subject": "x"}, headers=user
    )
    assert filed.status_code == 201, filed.text
