"""Intake and the two hot reads are answered by handlers written out (`core.direct_routes`),
not by FastAPI's solving of their signatures. A client must not be able to tell: the same
requests, good and bad, get the same answers from both."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core.clock import FrozenClock
from app.core.roles import Role
from app.core.settings import Settings
from app.main import create_app
from tests.support.tickets import Desk, make_desk
from tests.support.world import World, bearer


@pytest.fixture
async def served(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    clock: FrozenClock,
) -> AsyncIterator[tuple[FastAPI, Desk]]:
    app = create_app(settings, sessionmaker=sessionmaker, engine=engine, clock=clock)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        world = await World.start(client, sessionmaker, clock)
        yield app, await make_desk(world)


async def _both(app: FastAPI, client: httpx.AsyncClient, **request: Any) -> list[httpx.Response]:
    """The request answered by the direct handler, then by FastAPI's."""
    answers = []
    for generically in (False, True):
        app.state.solve_generically = generically
        answers.append(await client.request(**request))
    app.state.solve_generically = False
    return answers


def _same(direct: httpx.Response, generic: httpx.Response) -> None:
    assert direct.status_code == generic.status_code, (direct.text, generic.text)
    assert direct.headers["content-type"] == generic.headers["content-type"]
    assert direct.json() == generic.json()


async def test_refusals_of_intake_are_the_same_as_fastapis(
    served: tuple[FastAPI, Desk],
) -> None:
    app, desk = served
    client, json_type = desk.world.client, {"Content-Type": "application/json"}
    other = await desk.world.enterprise("Otra Empresa", "EC")
    elsewhere = await desk.world.service(other["id"], city="Quito", country="EC")
    cases: list[dict[str, Any]] = [
        {"headers": {}, "json": desk.body()},  # no token
        {"headers": {**desk.customer, **json_type}, "content": b'{"summary": '},  # broken JSON
        {"headers": json_type, "content": b"{,}"},  # broken JSON before the missing token
        {"headers": {**desk.customer, **json_type}, "content": b""},  # no body
        {"headers": {**desk.customer, **json_type}, "content": b"[" * 100_000},  # too deep
        {"headers": {**desk.customer, **json_type}, "content": b'{"a": "\xff\xfe"}'},  # not UTF-8
        {"headers": desk.customer, "json": []},
        {"headers": desk.customer, "json": "a ticket"},
        {"headers": desk.customer, "json": {}},
        {"headers": desk.customer, "json": desk.body(severity="apocalyptic", summary="")},
        {"headers": desk.customer, "json": desk.body(contact={"email": "not an address"})},
        {"headers": {**desk.customer, "Idempotency-Key": " padded "}, "json": desk.body()},
        {
            "headers": {**desk.customer, "Idempotency-Key": "k" * 256},
            "json": desk.body(severity=None),
        },
        {"headers": desk.customer, "json": desk.body(service_id="not-a-uuid")},
        {"headers": desk.customer, "json": desk.body(service_id=elsewhere["id"])},
        {"headers": desk.customer, "json": desk.body(service_id=str(uuid.uuid4()))},
        {"headers": desk.customer, "json": desk.body(reported_at="2026-01-01T00:00:00Z")},
        {"headers": bearer("cdk_not_a_token"), "json": desk.body()},
    ]
    for case in cases:
        direct, generic = await _both(app, client, method="POST", url="/v1/tickets", **case)
        assert direct.status_code in (400, 401, 403, 404, 422), direct.text
        _same(direct, generic)
    assert (await client.get("/v1/tickets", headers=desk.staff)).json()["items"] == []


async def test_a_ticket_opened_and_replayed_is_the_same_answer_either_way(
    served: tuple[FastAPI, Desk],
) -> None:
    app, desk = served
    client = desk.world.client
    keyed = {**desk.customer, "Idempotency-Key": "first-of-the-morning"}
    direct, generic = await _both(
        app, client, method="POST", url="/v1/tickets", headers=keyed, json=desk.body()
    )
    assert direct.status_code == 201, direct.text
    _same(direct, generic)  # the second is the first one's answer, replayed
    assert "idempotent-replayed" not in direct.headers
    assert generic.headers["idempotent-replayed"] == "true"
    # The replay names the ticket as the first answer did.
    assert direct.headers["location"] == generic.headers["location"]
    assert direct.headers["location"] == f"/v1/tickets/{direct.json()['id']}"
    reused, reused_generically = await _both(
        app,
        client,
        method="POST",
        url="/v1/tickets",
        headers=keyed,
        json=desk.body(summary="Another summary under the same key"),
    )
    assert reused.status_code == 422, reused.text
    _same(reused, reused_generically)

    unkeyed = [
        await _both(
            app, client, method="POST", url="/v1/tickets", headers=desk.customer, json=desk.body()
        )
        for _ in range(2)
    ]
    for direct, generic in unkeyed:
        assert (direct.status_code, generic.status_code) == (201, 201)
        assert direct.json().keys() == generic.json().keys()
        assert direct.json()["id"] != generic.json()["id"]
    page = (await client.get("/v1/tickets", headers=desk.staff)).json()["items"]
    assert len(page) == 5


async def test_the_reads_answer_the_same_as_fastapis(served: tuple[FastAPI, Desk]) -> None:
    app, desk = served
    client = desk.world.client
    ticket = await desk.open()
    other = await desk.world.enterprise("Otra Empresa", "EC")
    outsider = await desk.world.api_client(Role.customer_user, other["id"])
    paths_and_headers = [
        (f"/v1/tickets/{ticket['id']}", desk.customer),
        (f"/v1/tickets/{ticket['id']}", desk.staff),
        (f"/v1/tickets/{ticket['id']}", outsider),  # another tenant's ticket: 404
        (f"/v1/tickets/{ticket['id']}", {}),
        (f"/v1/tickets/{uuid.uuid4()}", desk.customer),
        ("/v1/tickets/not-a-uuid", desk.customer),
        ("/v1/tickets/not-a-uuid", {}),
        ("/v1/tickets", desk.customer),
        ("/v1/tickets", outsider),
        ("/v1/tickets?limit=1&severity=major&status=open", desk.staff),
        (f"/v1/tickets?enterprise_id={other['id']}", desk.customer),
        ("/v1/tickets?updated_since=2026-01-01T00:00:00Z&limit=100", desk.customer),
        ("/v1/tickets?limit=0&status=lost&breached=perhaps", desk.customer),
        ("/v1/tickets?updated_since=yesterday", desk.customer),
        ("/v1/tickets?cursor=" + "c" * 201, desk.customer),
        ("/v1/tickets?cursor=not-a-cursor", desk.customer),
        ("/v1/tickets?unknown=1", desk.customer),
        ("/v1/tickets", {}),
    ]
    for path, headers in paths_and_headers:
        direct, generic = await _both(app, client, method="GET", url=path, headers=headers)
        _same(direct, generic)
        assert direct.headers.get("etag") == generic.headers.get("etag")
    one = await client.get(f"/v1/tickets/{ticket['id']}", headers=desk.customer)
    assert one.status_code == 200
    assert one.json()["id"] == ticket["id"]
