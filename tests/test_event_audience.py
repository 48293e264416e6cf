"""Who sees what of an event: an internal note stays with the carrier's staff on every channel
(webhooks, the event stream, the REST history); a public note reaches the customer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import FrozenClock
from app.core.roles import Role
from app.core.settings import Settings
from app.main import create_app
from app.services.delivery.dispatcher import WebhookDispatcher
from app.services.delivery.fanout import fan_out_all
from tests.support.servers import http_receiver, serve
from tests.support.tickets import Desk, make_desk
from tests.test_event_stream import read_events

INTERNAL = "suspect the PE in Guayaquil; the customer's CPE firmware is ancient"
PUBLIC = "Field engineer dispatched, on site within the hour"


@pytest.fixture
def settings() -> Settings:
    return Settings(
        env="test",
        database_url="postgresql+asyncpg://unused/unused",
        public_url="https://portal.test",
        webhook_allow_private=True,  # the receiver listens on loopback
    )


async def _staff_notes(desk: Desk, ticket_id: str) -> None:
    for body, visibility in ((INTERNAL, "internal"), (PUBLIC, "public")):
        response = await desk.world.client.post(
            f"/v1/tickets/{ticket_id}/notes",
            json={"body": body, "visibility": visibility},
            headers=desk.staff,
        )
        assert response.status_code == 201, response.text


def _note_bodies(datas: list[dict[str, Any]]) -> list[str]:
    return [d["body"] for d in datas if "body" in d]


async def test_a_customer_gets_the_public_note_and_never_the_internal_one_on_any_channel(
    world: Any, settings: Settings, engine: AsyncEngine, clock: FrozenClock
) -> None:
    desk = await make_desk(world)
    admin = await world.api_client(Role.customer_admin, desk.enterprise["id"])
    async with http_receiver() as receiver, httpx.AsyncClient() as http:
        hook = await world.client.post(
            "/v1/webhooks", json={"url": receiver.url, "events": ["ticket.*"]}, headers=admin
        )
        assert hook.status_code == 201, hook.text
        ticket = await desk.open()
        await _staff_notes(desk, ticket["id"])
        async with world.sessionmaker() as session:
            await fan_out_all(session, world.clock)
        await WebhookDispatcher(world.sessionmaker, world.clock, settings, http).run_until_idle()

    # The customer's webhook: the ticket's opening and the public note, nothing else.
    hooked = [r.json() for r in receiver.requests]
    assert [h["type"] for h in hooked] == ["ticket.created", "ticket.note_added"]
    assert _note_bodies([h["data"] for h in hooked]) == [PUBLIC]
    assert all(INTERNAL.encode() not in r.body for r in receiver.requests)

    # The customer's REST history, and the staff's.
    customer_history = await desk.events(ticket["id"], desk.customer)
    assert _note_bodies([e["data"] for e in customer_history]) == [PUBLIC]
    assert [e["type"] for e in customer_history] == ["ticket.created", "ticket.note_added"]
    staff_history = await desk.events(ticket["id"])
    assert _note_bodies([e["data"] for e in staff_history]) == [INTERNAL, PUBLIC]

    # The customer's event stream, and the staff's: the stream moves past the hidden event.
    app = create_app(settings, sessionmaker=world.sessionmaker, engine=engine, clock=clock)
    async with serve(app) as port:
        base = f"http://127.0.0.1:{port}"
        streamed = await read_events(base, desk.customer, 99, after=0, max_seconds=2)
        staff_streamed = await read_events(base, desk.staff, 99, after=0, max_seconds=2)
    mine = [e for e in streamed if e["data"]["subject_id"] == ticket["id"]]
    assert [e["event"] for e in mine] == ["ticket.created", "ticket.note_added"]
    assert _note_bodies([e["data"]["data"] for e in mine]) == [PUBLIC]
    assert all(INTERNAL not in str(e) for e in streamed)
    theirs = [e["data"]["data"] for e in staff_streamed if e["data"]["subject_id"] == ticket["id"]]
    assert _note_bodies(theirs) == [INTERNAL, PUBLIC]


async def test_the_history_is_a_page_a_customer_walks_with_its_cursor(world: Any) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    await _staff_notes(desk, ticket["id"])
    url = f"/v1/tickets/{ticket['id']}/events"
    first = (await world.client.get(url, params={"limit": 1}, headers=desk.customer)).json()
    assert [e["type"] for e in first["items"]] == ["ticket.created"]
    assert first["items"][0]["enterprise_id"] == desk.enterprise["id"]
    seen: list[dict[str, Any]] = []
    cursor = first["next_cursor"]
    while cursor is not None:
        page = (
            await world.client.get(
                url, params={"limit": 1, "cursor": cursor}, headers=desk.customer
            )
        ).json()
        seen.extend(page["items"])
        cursor = page["next_cursor"]
    assert _note_bodies([e["data"] for e in seen]) == [PUBLIC]
