"""Tenant isolation on every read that is not one row by id: lists, reports, the mail log,
the TMF621 lists, the event stream and the iCalendar feed.

Enterprise B's callers (every customer role, as API clients and as signed-in people) read
every list route before and after enterprise A gets one of everything (tickets, orders,
requests, maintenances, webhooks, contacts and their mail, clients, people, hub listeners):
B's answers must not change, and must name nothing of A's. A's own callers must see A's rows
on the lists that hold them, so the comparison is not of two empty pages.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from app.core.roles import Role
from app.core.settings import Settings
from app.permissions import OPEN_ROUTES
from app.services.delivery.fanout import fan_out_all
from tests.support.route_objects import (
    FACTORIES,
    Objects,
    api_routes,
    loopback_settings,
    path_params,
)
from tests.support.servers import serve
from tests.support.world import World

CUSTOMER_ROLES = [Role.customer_admin, Role.customer_user, Role.carrier]
PLAIN_PARAMS = {"country": "EC", "city": "Quito"}
STREAM = "GET /v1/events/stream"

# Lists where A's own administrator must find A's rows after they are made.
HOLDING_A = {
    "GET /v1/tickets",
    "GET /v1/orders",
    "GET /v1/billing-requests",
    "GET /v1/change-requests",
    "GET /v1/maintenances",
    "GET /v1/webhooks",
    "GET /v1/mail-messages",
    "GET /v1/api-clients",
    "GET /v1/users",
    "GET /v1/enterprises",
    "GET /tmf-api/troubleTicket/v4/troubleTicket",
}


@pytest.fixture
def settings() -> Settings:
    return loopback_settings()


def list_routes() -> list[str]:
    """Every GET route without an id in its path, but the open ones and the stream."""
    return [
        f"{method} {path}"
        for method, path, _route in api_routes()
        if method == "GET"
        and not [p for p in path_params(path) if p not in PLAIN_PARAMS]
        and f"{method} {path}" not in OPEN_ROUTES | {STREAM}
    ]


Caller = tuple[str, dict[str, str]]


async def _read_all(
    world: World, callers: list[Caller], a_id: str
) -> dict[tuple[str, str], tuple[int, str]]:
    answers = {}
    for key in list_routes():
        url = key.split(" ", 1)[1].format(**PLAIN_PARAMS)
        queries: list[dict[str, str]] = [{}]
        if key in ("GET /v1/tickets", "GET /v1/reports/sla"):
            queries.append({"enterprise_id": a_id})  # asking by name for A's
        for name, headers in callers:
            for query in queries:
                answer = await world.client.get(url, headers=headers, params=query)
                answers[(f"{key} {query}", name)] = (answer.status_code, answer.text)
    return answers


async def _callers(world: World, enterprise_id: str) -> list[Caller]:
    callers = []
    for role in CUSTOMER_ROLES:
        callers.append((f"{role.value} api client", await world.api_client(role, enterprise_id)))
        callers.append((f"{role.value} user", await world.user(role, enterprise_id)))
    return callers


async def _one_of_everything(world: World, acme: dict[str, Any]) -> set[str]:
    """One of every object A can have, its mail and deliveries fanned out; what names them."""
    objects = Objects(world, acme)
    for name in FACTORIES:
        await objects.need(name)
    hub = Objects(world, acme, "/tmf-api/troubleTicket/v4/hub/{id}")
    await hub.need("id")
    contact_email = f"noc-{uuid.uuid4().hex[:8]}@acme.example"
    await objects.post(
        f"/v1/enterprises/{acme['id']}/contacts",
        {"name": "NOC", "email": contact_email, "events": ["*"]},
    )
    await objects.need("ticket_id")
    async with world.sessionmaker() as session:
        await fan_out_all(session, world.clock)
    numbers = set()
    for path, field in (
        (f"/v1/tickets/{objects.ids['ticket_id']}", "number"),
        (f"/v1/maintenances/{objects.ids['maintenance_id']}", "gcr_number"),
    ):
        numbers.add((await world.client.get(path, headers=world.admin)).json()[field])
    return {*objects.ids.values(), *hub.ids.values(), contact_email, *numbers}


def _names_any(text: str, markers: set[str]) -> list[str]:
    return sorted(m for m in markers if m in text)


async def test_another_enterprise_sees_nothing_of_a_on_any_list(world: World) -> None:
    acme = await world.enterprise("Acme Lists", "EC")
    other = await world.enterprise("Other Lists", "PE")
    theirs = await _callers(world, other["id"])
    ours = await _callers(world, acme["id"])
    before = await _read_all(world, theirs, acme["id"])
    markers = await _one_of_everything(world, acme)
    after = await _read_all(world, theirs, acme["id"])

    failures = []
    for key, (status, text) in after.items():
        # A 404 may repeat the id B itself asked for; it must name nothing else of A's.
        asked = {acme["id"]} if acme["id"] in key[0] else set()
        leaked = _names_any(text, markers - asked)
        if leaked or (status, text) != before[key]:
            failures.append(f"{key[0]} as {key[1]} of B: {status}, names {leaked}: {text[:160]}")
    assert not failures, "\n".join(failures)

    admin = ours[0][1]
    for key in HOLDING_A:
        answer = await world.client.get(key.split(" ", 1)[1], headers=admin)
        assert answer.status_code == 200, (key, answer.text)
        assert _names_any(answer.text, markers), f"{key}: A's administrator sees none of A's"


async def test_the_event_stream_and_the_feed_carry_nothing_of_another_enterprise(
    live: tuple[World, Any],
) -> None:
    world, app = live
    acme = await world.enterprise("Acme Channels", "EC")
    other = await world.enterprise("Other Channels", "PE")
    theirs = await _callers(world, other["id"])
    ours = await _callers(world, acme["id"])
    markers = await _one_of_everything(world, acme)
    admin_b = theirs[0][1]
    feed_b = await world.client.get(
        f"/v1/enterprises/{other['id']}/maintenance-feed", headers=admin_b
    )
    assert feed_b.status_code == 200, feed_b.text
    feed_a = await world.client.get(
        f"/v1/enterprises/{acme['id']}/maintenance-feed", headers=ours[0][1]
    )

    async with serve(app) as port, httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:

        async def stream(headers: dict[str, str]) -> httpx.Response:
            return await http.get(
                "/v1/events/stream", params={"after": 0, "max_seconds": 1}, headers=headers
            )

        for name, headers in theirs:
            answer = await stream(headers)
            if name.startswith("carrier"):
                assert answer.status_code == 403, (name, answer.status_code)
                continue
            assert answer.status_code == 200, (name, answer.text)
            assert not _names_any(answer.text, markers | {acme["id"]}), name
        # A's own stream carries A's events: the one above was not empty by accident.
        assert acme["id"] in (await stream(ours[0][1])).text

        for feed, must_name in ((feed_b, False), (feed_a, True)):
            url = httpx.URL(feed.json()["url"])
            calendar = await http.get(url.path, params=dict(url.params))
            assert calendar.status_code == 200, calendar.text
            assert bool(_names_any(calendar.text, markers)) is must_name, calendar.text[:400]
        # Read with B's bearer tokens, the calendar names none of A's maintenances either.
        for name, headers in theirs:
            calendar = await http.get("/v1/maintenances.ics", headers=headers)
            if name.startswith("carrier"):
                assert calendar.status_code == 403, (name, calendar.status_code)
                continue
            assert calendar.status_code == 200, (name, calendar.text)
            assert not _names_any(calendar.text, markers), name
