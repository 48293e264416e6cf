"""`Idempotency-Key` on every creating POST, generated from the route table.

Every `/v1` POST that answers 201 takes the header: a retry with the same key and body is
answered the first answer (`Idempotent-Replayed: true`, nothing created twice); the same key
with another body is a 422 naming `Idempotency-Key`. A creation whose answer holds a secret
shown once replays as `409 secret-shown-once` with the first answer without it
(tests/test_shown_once_secrets.py). A new creating route without a body here fails the test.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from app.core.settings import Settings
from app.main import create_app
from tests.support.route_objects import CONTACT, Objects
from tests.support.settings import LOOPBACK, suite_settings
from tests.support.world import World

Body = Callable[[Objects], Awaitable[dict[str, Any]]]


@pytest.fixture
def settings() -> Settings:
    # The webhook of the test tenant points at loopback.
    return suite_settings(
        webhook_allowed_networks=LOOPBACK,
    )


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def _enterprise(o: Objects) -> dict[str, Any]:
    return {"name": _unique("Idem"), "country": "EC"}


async def _api_client(o: Objects) -> dict[str, Any]:
    return {"name": _unique("noc"), "role": "customer_user", "enterprise_ids": [o.enterprise["id"]]}


async def _user(o: Objects) -> dict[str, Any]:
    return {
        "email": f"{_unique('user')}@acme.example",
        "name": "Operator",
        "role": "customer_user",
        "enterprise_ids": [o.enterprise["id"]],
    }


async def _account(o: Objects) -> dict[str, Any]:
    return {"number": _unique("AC"), "name": "Main", "currency": "USD"}


async def _service(o: Objects) -> dict[str, Any]:
    site = {"address": "Av. Amazonas", "city": "Quito", "country": "EC"}
    return {"code": _unique("SVC"), "product_line": "data", "site": site}


async def _contact(o: Objects) -> dict[str, Any]:
    return {"name": _unique("NOC"), "email": "noc@acme.example", "events": ["ticket.*"]}


async def _closed_day(o: Objects) -> dict[str, Any]:
    day = o.world.clock.now().date() + timedelta(days=30 + len(o.ids))
    return {"date": day.isoformat(), "reason": _unique("Office move")}


async def _ticket(o: Objects) -> dict[str, Any]:
    return {
        "enterprise_id": o.enterprise["id"],
        "service_id": await o.need("service_id"),
        "severity": "major",
        "summary": _unique("Link down"),
        "contact": CONTACT,
    }


async def _note(o: Objects) -> dict[str, Any]:
    return {"body": _unique("checked the CPE")}


async def _escalation(o: Objects) -> dict[str, Any]:
    return {"reason": _unique("no news for hours")}


async def _order(o: Objects) -> dict[str, Any]:
    return {
        "enterprise_id": o.enterprise["id"],
        "product_line": _unique("Internet 100 Mbps"),
        "sites": [{"address": "Av. Amazonas", "city": "Quito", "country": "EC"}],
    }


async def _billing_request(o: Objects) -> dict[str, Any]:
    return {
        "enterprise_id": o.enterprise["id"],
        "type": "inquiry",
        "subject": _unique("Invoice question"),
        "description": "Which period does the last invoice cover?",
        "channel": "portal",
    }


async def _change_request(o: Objects) -> dict[str, Any]:
    return {
        "enterprise_id": o.enterprise["id"],
        "catalog_item": None,
        "service_ids": [await o.need("service_id")],
        "description": _unique("Move the demarcation point"),
    }


async def _maintenance(o: Objects) -> dict[str, Any]:
    start = o.world.clock.now() + timedelta(hours=1)
    return {
        "kind": "emergency",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
        "impacted_service_ids": [await o.need("service_id")],
        "reason": _unique("Fibre cut on the backbone"),
        "expected_impact": "outage",
    }


async def _webhook(o: Objects) -> dict[str, Any]:
    return {
        "url": "http://127.0.0.1:9/hook",
        "events": ["ticket.*"],
        "enterprise_id": o.enterprise["id"],
        "description": _unique("NOC"),
    }


async def _incident(o: Objects) -> dict[str, Any]:
    return {"summary": _unique("Backbone fibre cut"), "service_ids": [await o.need("service_id")]}


# A body for each creating route, keyed "POST /path" as the route table spells it: two calls
# give two different bodies.
CREATIONS: dict[str, Body] = {
    "POST /v1/api-clients": _api_client,
    "POST /v1/users": _user,
    "POST /v1/enterprises": _enterprise,
    "POST /v1/enterprises/{enterprise_id}/accounts": _account,
    "POST /v1/enterprises/{enterprise_id}/services": _service,
    "POST /v1/enterprises/{enterprise_id}/contacts": _contact,
    "POST /v1/calendars/{country}/closed-days": _closed_day,
    "POST /v1/tickets": _ticket,
    "POST /v1/tickets/{ticket_id}/notes": _note,
    "POST /v1/tickets/{ticket_id}/escalations": _escalation,
    "POST /v1/orders": _order,
    "POST /v1/billing-requests": _billing_request,
    "POST /v1/change-requests": _change_request,
    "POST /v1/maintenances": _maintenance,
    "POST /v1/webhooks": _webhook,
    "POST /v1/incidents": _incident,
}

# Creations whose body is a form, not JSON: their retries are proven where the form is built.
TESTED_ELSEWHERE = {
    "POST /v1/tickets/{ticket_id}/attachments": "tests/test_attachments.py",
    "POST /v1/billing-requests/{request_id}/attachments": "tests/test_attachments.py",
}


def creating_routes() -> list[str]:
    """`POST /path` of every route under /v1 that answers 201 (TMF621 keeps its own face)."""
    app = create_app(Settings(env="test", database_url="postgresql+asyncpg://unused/unused"))
    found = []
    for route in iter_route_contexts(app.routes):
        original = route.original_route
        if not isinstance(original, APIRoute) or original.status_code != 201:
            continue
        if "POST" in (route.methods or ()) and route.path.startswith("/v1/"):
            found.append(f"POST {route.path}")
    return sorted(found)


def test_every_creating_route_has_a_body_here() -> None:
    routes = creating_routes()
    assert len(routes) >= 10  # the generator found the routes
    assert set(routes) == set(CREATIONS) | set(TESTED_ELSEWHERE)


async def _url(o: Objects, path: str) -> str:
    for name in ("enterprise_id", "ticket_id"):
        if "{" + name + "}" in path:
            path = path.replace("{" + name + "}", await o.need(name))
    return path.replace("{country}", "EC")


@pytest.mark.parametrize("route", sorted(CREATIONS))
async def test_a_retried_creation_replays_the_first_answer(world: World, route: str) -> None:
    enterprise = await world.enterprise(_unique("Acme Idempotency"), "EC")
    o = Objects(world, enterprise, route.split(" ", 1)[1])
    url = await _url(o, o.path)
    body = await CREATIONS[route](o)
    headers = {**world.admin, "Idempotency-Key": f"retry-{uuid.uuid4()}"}

    first = await world.client.post(url, json=body, headers=headers)
    assert first.status_code == 201, first.text
    retry = await world.client.post(url, json=body, headers=headers)
    assert retry.headers.get("idempotent-replayed") == "true", (retry.status_code, retry.text)
    if retry.status_code == 409:  # a secret shown once is not kept: the rest of the answer
        assert retry.json()["type"].endswith("secret-shown-once")
        kept = retry.json()["resource"]
        assert kept == {k: v for k, v in first.json().items() if k in kept}
    else:
        assert retry.status_code == 201, retry.text
        assert retry.json() == first.json()

    other = await world.client.post(url, json=await CREATIONS[route](o), headers=headers)
    assert other.status_code == 422, other.text
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
