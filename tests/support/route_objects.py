"""Objects of one enterprise made through the API for any route of the app's route table, and
the request that route takes: shared by the tests generated from the route table (tenant
isolation, permissions).

A new route with an id parameter no factory knows fails those tests, naming the parameter: add
a factory to `FACTORIES` (and, if the route needs a body, an entry in `BODIES`).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select

from app.core.events import record_event
from app.core.roles import Role
from app.core.settings import Settings
from app.main import create_app
from app.models import WebhookDelivery
from app.services.billing.policy import MOVE_ROLES as BILLING_MOVES
from app.services.changes.policy import MOVE_ROLES as CHANGE_MOVES
from app.services.delivery.fanout import fan_out_batch
from app.services.inbound_mail.rules import Source
from app.services.inbound_mail.storing import store_message
from app.services.orders.policy import MOVE_ROLES as ORDER_MOVES
from tests.support.events import ticket_event
from tests.support.world import World

# Path parameters that name something other than a tenant's row (a country
# code, a catalogue key): routes keyed only by these are reference data.
NOT_TENANT_IDS: set[str] = {"country", "key", "code"}


def loopback_settings() -> Settings:
    """Settings whose webhook endpoints and hub callbacks may point at loopback."""
    return Settings(
        env="test",
        database_url="postgresql+asyncpg://unused/unused",
        public_url="https://portal.test",
        webhook_allow_private=True,
    )


def is_id_param(name: str) -> bool:
    return name not in NOT_TENANT_IDS and (name == "id" or name.endswith("_id"))


class NoFactory(Exception):
    """An id parameter this file does not know how to create."""


FAN_OUT_BATCH = 200  # fan_out_batch's default limit


@dataclass
class Objects:
    """Objects of enterprise A for one route, made on demand through the API."""

    world: World
    enterprise: dict[str, Any]
    path: str = ""
    ids: dict[str, str] = field(default_factory=dict)

    async def need(self, name: str) -> str:
        if name not in self.ids:
            factory = PATH_FACTORIES.get((self.path, name)) or FACTORIES.get(name)
            if factory is None:
                raise NoFactory(name)
            self.ids[name] = await factory(self)
        return self.ids[name]

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.world.client.post(path, json=body, headers=self.world.admin)
        assert response.status_code == 201, f"POST {path}: {response.status_code} {response.text}"
        created: dict[str, Any] = response.json()
        return created


Factory = Callable[[Objects], Awaitable[str]]


async def _enterprise(o: Objects) -> str:
    # The tenant itself: routes under /v1/enterprises/{enterprise_id}.
    return str(o.enterprise["id"])


async def _service(o: Objects) -> str:
    # A service of A, registered by the provider admin.
    return str((await o.world.service(await o.need("enterprise_id")))["id"])


async def _api_client(o: Objects) -> str:
    # An API client of A, as A's administrator would make it.
    body = {"name": "noc", "role": "customer_user", "enterprise_ids": [o.enterprise["id"]]}
    return str((await o.post("/v1/api-clients", body))["id"])


async def _user(o: Objects) -> str:
    # A user of A.
    body = {
        "email": f"user-{uuid.uuid4().hex[:8]}@acme.example",
        "name": "Operator",
        "role": "customer_user",
        "enterprise_ids": [o.enterprise["id"]],
    }
    return str((await o.post("/v1/users", body))["id"])


CONTACT = {"name": "NOC duty desk", "phone": "+593 2 400 5124", "email": "noc@acme.example"}


async def _ticket(o: Objects) -> str:
    # A ticket of A on one of its services, opened by the provider for A.
    body = {
        "enterprise_id": o.enterprise["id"],
        "service_id": await o.need("service_id"),
        "severity": "major",
        "summary": "Link down",
        "contact": CONTACT,
    }
    return str((await o.post("/v1/tickets", body))["id"])


async def _webhook(o: Objects) -> str:
    # A webhook endpoint of A (loopback is allowed in this module's settings).
    body = {
        "url": "http://127.0.0.1:9/hook",
        "events": ["ticket.*"],
        "enterprise_id": o.enterprise["id"],
    }
    return str((await o.post("/v1/webhooks", body))["id"])


async def _delivery(o: Objects) -> str:
    # A delivery to A's webhook: an event of A, fanned out from the outbox.
    webhook_id = await o.need("webhook_id")
    async with o.world.sessionmaker() as session:
        event_id = await record_event(
            session,
            ticket_event(number="TT-ISOLATION"),
            subject_id=uuid.uuid4(),
            at=o.world.clock.now(),
            actor="test",
            enterprise_id=uuid.UUID(o.enterprise["id"]),
        )
        await session.commit()
        # Fanned out up to this event: it is committed (in the test's transaction), and waiting
        # for the event watermark would wait on whatever else runs on the server
        # (tests/test_event_commit_order.py proves the watermark).
        while await fan_out_batch(session, o.world.clock, event_id) == FAN_OUT_BATCH:
            pass
        delivery_id = (
            (
                await session.execute(
                    select(WebhookDelivery.id).where(
                        WebhookDelivery.endpoint_id == uuid.UUID(webhook_id)
                    )
                )
            )
            .scalars()
            .first()
        )
    return str(delivery_id)


async def _contact(o: Objects) -> str:
    # A notification contact of A.
    body = {"name": "NOC duty desk", "email": "noc@acme.example", "events": ["ticket.*"]}
    return str((await o.post(f"/v1/enterprises/{o.enterprise['id']}/contacts", body))["id"])


async def _order(o: Objects) -> str:
    # An order of A, created by provider staff as the customer care manager would.
    body = {
        "enterprise_id": o.enterprise["id"],
        "product_line": "Internet 100 Mbps",
        "sites": [{"address": "Av. Amazonas", "city": "Quito", "country": "EC"}],
    }
    return str((await o.post("/v1/orders", body))["id"])


async def _billing_request(o: Objects) -> str:
    # A billing inquiry of A.
    body = {
        "enterprise_id": o.enterprise["id"],
        "type": "inquiry",
        "subject": "Invoice question",
        "description": "Which period does the last invoice cover?",
        "channel": "portal",
    }
    return str((await o.post("/v1/billing-requests", body))["id"])


async def _change_request(o: Objects) -> str:
    # A change request of A on one of its services (outside the catalogue: referred).
    body = {
        "enterprise_id": o.enterprise["id"],
        "catalog_item": None,
        "service_ids": [await o.need("service_id")],
        "description": "Move the demarcation point",
    }
    return str((await o.post("/v1/change-requests", body))["id"])


async def _maintenance(o: Objects) -> str:
    # An emergency maintenance touching one of A's services (no window or notice rules).
    start = o.world.clock.now() + timedelta(hours=1)
    body = {
        "kind": "emergency",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
        "impacted_service_ids": [await o.need("service_id")],
        "reason": "Fibre cut on the backbone",
        "expected_impact": "outage",
    }
    return str((await o.post("/v1/maintenances", body))["id"])


async def _tmf_hub(o: Objects) -> str:
    # A TMF621 hub listener registered by A's carrier system.
    carrier = await o.world.api_client(Role.carrier, o.enterprise["id"])
    response = await o.world.client.post(
        "/tmf-api/troubleTicket/v4/hub",
        json={"callback": "http://127.0.0.1:9/hub"},
        headers=carrier,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _incident(o: Objects) -> str:
    # A network incident the TSC declared over one of A's services (it spans tenants: A sees
    # it through that service).
    body = {"summary": "Backbone fibre cut", "service_ids": [await o.need("service_id")]}
    return str((await o.post("/v1/incidents", body))["id"])


SONATA = "/mefApi/sonata/troubleTicket/v4"


async def _sonata_hub(o: Objects) -> str:
    # A Sonata hub listener registered by A's wholesale carrier system.
    carrier = await o.world.api_client(Role.carrier, o.enterprise["id"])
    response = await o.world.client.post(
        f"{SONATA}/hub", json={"callback": "http://127.0.0.1:9/hub"}, headers=carrier
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


# The routes that take a file (multipart/form-data), and the file they are sent.
MULTIPART = {
    "POST /v1/tickets/{ticket_id}/attachments",
    "POST /v1/billing-requests/{request_id}/attachments",
}
FILE = {"file": ("isolation.txt", b"a file of enterprise A", "text/plain")}


async def _upload(o: Objects, path: str) -> str:
    response = await o.world.client.post(path, files=FILE, headers=o.world.admin)
    assert response.status_code == 201, f"POST {path}: {response.status_code} {response.text}"
    return str(response.json()["id"])


async def _ticket_attachment(o: Objects) -> str:
    # A file on a ticket of A.
    return await _upload(o, f"/v1/tickets/{await o.need('ticket_id')}/attachments")


async def _billing_attachment(o: Objects) -> str:
    # A file on a billing request of A.
    return await _upload(o, f"/v1/billing-requests/{await o.need('request_id')}/attachments")


async def _inbound_message(o: Objects) -> str:
    # A mail from A's contact as the listener stores it (staff-only routes: customers get 403).
    async with o.world.sessionmaker() as session:
        stored = await store_message(
            session,
            o.world.clock,
            b"From: noc@a.example\r\nSubject: isolation\r\n\r\nhello\r\n",
            mailbox="soporte@carrier.example",
            source=Source.smtp,
        )
    return str(stored)


# How to make an object of enterprise A for each id parameter name. Every id
# parameter of every route must be here: a missing one fails the test.
FACTORIES: dict[str, Factory] = {
    "message_id": _inbound_message,
    "enterprise_id": _enterprise,
    "service_id": _service,
    "client_id": _api_client,
    "user_id": _user,
    "ticket_id": _ticket,
    "webhook_id": _webhook,
    "delivery_id": _delivery,
    "contact_id": _contact,
    "order_id": _order,
    "request_id": _billing_request,
    "change_id": _change_request,
    "maintenance_id": _maintenance,
    "attachment_id": _ticket_attachment,
    "incident_id": _incident,
    # TMF621 names its ids plain `id`: a trouble ticket is a Carrier Desk ticket.
    "id": _ticket,
}

# Where one parameter name means different things on different paths.
PATH_FACTORIES: dict[tuple[str, str], Factory] = {
    ("/tmf-api/troubleTicket/v4/hub/{id}", "id"): _tmf_hub,
    (f"{SONATA}/hub/{{id}}", "id"): _sonata_hub,
    (f"{SONATA}/incident/{{id}}", "id"): _incident,
    (
        "/v1/billing-requests/{request_id}/attachments/{attachment_id}",
        "attachment_id",
    ): _billing_attachment,
}


# Bodies for routes that need one to get past validation; `{}` otherwise.
# Keys are "METHOD /path" as the route table spells them.
Body = Callable[[Objects], Awaitable[dict[str, Any]]]


async def _service_body(o: Objects) -> dict[str, Any]:
    return {
        "code": f"SVC-{uuid.uuid4().hex[:8]}",
        "product_line": "data",
        "site": {"address": "Av. Amazonas", "city": "Quito", "country": "EC"},
    }


async def _account_body(o: Objects) -> dict[str, Any]:
    return {"number": f"AC-{uuid.uuid4().hex[:8]}", "name": "Main", "currency": "USD"}


async def _transition_body(o: Objects) -> dict[str, Any]:
    return {"to": "registration"}


async def _reason_body(o: Objects) -> dict[str, Any]:
    return {"reason": "waiting for the customer's site access"}


async def _note_body(o: Objects) -> dict[str, Any]:
    return {"body": "checked the CPE"}


async def _webhook_body(o: Objects) -> dict[str, Any]:
    return {"description": "changed"}


async def _contact_body(o: Objects) -> dict[str, Any]:
    return {"name": "NOC", "email": "noc@acme.example", "events": ["ticket.*"]}


def _fixed(value: dict[str, Any]) -> Body:
    async def make(o: Objects) -> dict[str, Any]:
        return value

    return make


async def _schedule_body(o: Objects) -> dict[str, Any]:
    # Tuesday 10:00 in Quito: inside office hours.
    start = o.world.clock.now() + timedelta(days=1)
    return {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}


BODIES: dict[str, Body] = {
    "PATCH /v1/enterprises/{enterprise_id}/contacts/{contact_id}": _fixed({"name": "NOC 2"}),
    "POST /v1/orders/{order_id}/touchpoints": _fixed({"key": "technical_details_request"}),
    "POST /v1/orders/{order_id}/transitions": _fixed({"to": "in_progress"}),
    "POST /v1/billing-requests/{request_id}/transitions": _fixed({"to": "acknowledged"}),
    "POST /v1/billing-requests/{request_id}/resolve": _fixed({"outcome": "accepted"}),
    "POST /v1/change-requests/{change_id}/schedule": _schedule_body,
    "POST /v1/change-requests/{change_id}/transitions": _fixed({"to": "rejected"}),
    "PATCH /v1/maintenances/{maintenance_id}": _fixed({"reason": "Fibre cut, second span"}),
    "POST /v1/maintenances/{maintenance_id}/cancel": _fixed({"reason": "Repaired"}),
    "PATCH /tmf-api/troubleTicket/v4/troubleTicket/{id}": _fixed({"description": "Now flapping"}),
    f"PATCH {SONATA}/troubleTicket/{{id}}": _fixed({"priority": "low"}),
    "POST /v1/incidents/{incident_id}/resolve": _fixed({"resolution": "Spliced"}),
    "PUT /v1/mailboxes/{address}": _fixed({"purpose": "technical_support", "country": "EC"}),
    "POST /v1/tickets/{ticket_id}/transitions": _transition_body,
    "POST /v1/tickets/{ticket_id}/hold": _reason_body,
    "POST /v1/tickets/{ticket_id}/escalations": _reason_body,
    "POST /v1/tickets/{ticket_id}/notes": _note_body,
    "POST /v1/enterprises/{enterprise_id}/services": _service_body,
    "POST /v1/enterprises/{enterprise_id}/accounts": _account_body,
    "POST /v1/enterprises/{enterprise_id}/contacts": _contact_body,
}


# TMF621 takes JSON Merge Patch, under its own media type.
MERGE_PATCH = {"PATCH /tmf-api/troubleTicket/v4/troubleTicket/{id}"}
MERGE_PATCH_HEADERS = {"Content-Type": "application/merge-patch+json"}


# Routes whose body names the state to move into: who may make a move is the move table's
# question, so each role is asked for a move its table lets it make.
MOVE_TABLES: dict[str, dict[Any, frozenset[Role]]] = {
    "POST /v1/orders/{order_id}/transitions": dict(ORDER_MOVES),
    "POST /v1/billing-requests/{request_id}/transitions": dict(BILLING_MOVES),
    "POST /v1/change-requests/{change_id}/transitions": dict(CHANGE_MOVES),
}


async def request_body(key: str, objects: Objects, role: Role) -> dict[str, Any]:
    """The body route `key` is sent by a caller of `role`: from `BODIES`, a move the role may
    make on move routes, `{}` otherwise."""
    body_factory = BODIES.get(key)
    body = await body_factory(objects) if body_factory else {}
    moves = MOVE_TABLES.get(key)
    if moves is not None:
        allowed = [str(status) for status, roles in moves.items() if role in roles]
        if allowed and body.get("to") not in allowed:
            body = {**body, "to": allowed[0]}
    return body


def request_arguments(key: str, body: dict[str, Any] | None) -> dict[str, Any]:
    """The keyword arguments of `httpx.AsyncClient.request` for route `key` with `body`."""
    method = key.split(" ", 1)[0]
    if method not in {"POST", "PUT", "PATCH"}:
        return {}
    if key in MERGE_PATCH:
        return {"content": json.dumps(body or {}), "headers": MERGE_PATCH_HEADERS}
    if key in MULTIPART:
        return {"files": FILE}
    return {"json": body or {}}


def api_routes() -> list[tuple[str, str, APIRoute]]:
    """(method, path, route) of every API route the app really serves."""
    app = create_app(Settings(env="test", database_url="postgresql+asyncpg://unused/unused"))
    found = []
    # FastAPI nests included routers lazily; `iter_route_contexts` flattens
    # them into the paths and methods the app really serves.
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute):
            continue
        for method in sorted(set(route.methods or ()) - {"HEAD", "OPTIONS"}):
            found.append((method, route.path, route.original_route))
    return found


def path_params(path: str) -> list[str]:
    return re.findall(r"{(\w+)(?::\w+)?}", path)


def id_routes() -> list[tuple[str, str, list[str]]]:
    """(method, path, id parameters) of every route whose path carries an id."""
    found = []
    for method, path, _route in api_routes():
        ids = [p for p in path_params(path) if is_id_param(p)]
        if ids:
            found.append((method, path, ids))
    return found
