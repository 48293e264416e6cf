"""Who sees what of an event: an internal note, and a staff-only field, stay with the carrier's
staff on every channel (REST history, event stream, webhooks, TMF621 hubs, mail); a public note
reaches the customer."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.event_registry import STAFF_ONLY, registered_classes
from app.core.roles import Role
from app.core.settings import Settings
from app.services.delivery.dispatcher import WebhookDispatcher, webhook_client
from app.services.delivery.fanout import fan_out_all
from app.services.delivery.mail_sender import send_due_mail
from tests.support.servers import http_receiver, serve, smtp_server
from tests.support.settings import LOOPBACK, suite_settings
from tests.support.tickets import Desk, make_desk
from tests.support.world import World
from tests.test_event_stream import read_events

INTERNAL = "suspect the PE in Guayaquil; the customer's CPE firmware is ancient"
PUBLIC = "Field engineer dispatched, on site within the hour"
# A billing agent's working note is a staff-only field of `billing.acknowledged`.
DESK_NOTE = "customer disputes every invoice; check with finance before crediting"


@pytest.fixture
def settings() -> Settings:
    return suite_settings(
        webhook_allowed_networks=LOOPBACK,  # the receiver, on loopback; the guard is strict
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
    live: tuple[World, Any], settings: Settings
) -> None:
    world, app = live
    desk = await make_desk(world)
    admin = await world.api_client(Role.customer_admin, desk.enterprise["id"])
    async with http_receiver() as receiver, webhook_client() as http:
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


async def test_every_channel_shows_a_customer_the_public_note_and_nothing_for_staff_only(
    live: tuple[World, Any], settings: Settings
) -> None:
    world, app = live
    desk = await make_desk(world)
    enterprise_id = desk.enterprise["id"]
    admin = await world.api_client(Role.customer_admin, enterprise_id)
    carrier = await world.api_client(Role.carrier, enterprise_id)
    billing_agent = await world.staff(Role.billing_agent)
    contact = await world.client.post(
        f"/v1/enterprises/{enterprise_id}/contacts",
        json={
            "name": "NOC",
            "email": "noc@banco.example",
            "language": "es",
            "events": ["ticket.*", "billing.*"],
        },
        headers=admin,
    )
    assert contact.status_code == 201, contact.text
    with smtp_server() as mailbox:
        mailing = settings.model_copy(update={"smtp_url": mailbox.url})
        async with (
            http_receiver() as receiver,
            http_receiver() as hub_listener,
            webhook_client() as http,
        ):
            hook = await world.client.post(
                "/v1/webhooks",
                json={"url": receiver.url, "events": ["ticket.*", "billing.*"]},
                headers=admin,
            )
            assert hook.status_code == 201, hook.text
            hub = await world.client.post(
                "/tmf-api/troubleTicket/v4/hub",
                json={"callback": hub_listener.url},
                headers=carrier,
            )
            assert hub.status_code == 201, hub.text

            ticket = await desk.open()
            await _staff_notes(desk, ticket["id"])
            await desk.move(ticket["id"], "registration")  # mailed, and a TMF status change
            filed = await world.client.post(
                "/v1/billing-requests",
                json={"type": "inquiry", "subject": "Factura de noviembre"},
                headers=desk.customer,
            )
            assert filed.status_code == 201, filed.text
            request_id = filed.json()["id"]
            acknowledged = await world.client.post(
                f"/v1/billing-requests/{request_id}/transitions",
                json={"to": "acknowledged", "note": DESK_NOTE},
                headers={**billing_agent, "If-Match": '"1"'},
            )
            assert acknowledged.status_code == 200, acknowledged.text

            async with world.sessionmaker() as session:
                await fan_out_all(session, world.clock)
                while await send_due_mail(session, world.clock, mailing):
                    pass
            await WebhookDispatcher(
                world.sessionmaker, world.clock, settings, http
            ).run_until_idle()

        async with serve(app) as port:
            streamed = await read_events(
                f"http://127.0.0.1:{port}", desk.customer, 99, after=0, max_seconds=2
            )

    ticket_history = await desk.events(ticket["id"], desk.customer)
    billing_history = (
        await world.client.get(f"/v1/billing-requests/{request_id}/events", headers=desk.customer)
    ).json()["items"]
    staff_billing_history = (
        await world.client.get(f"/v1/billing-requests/{request_id}/events", headers=billing_agent)
    ).json()["items"]
    channels: dict[str, list[str]] = {
        "webhook": [r.body.decode() for r in receiver.requests],
        "tmf621 hub": [r.body.decode() for r in hub_listener.requests],
        "mail": [f"{m.subject}\n{m.text}" for m in mailbox.mails],
        "stream": [str(e) for e in streamed],
        "ticket history": [str(e) for e in ticket_history],
        "billing history": [str(e) for e in billing_history],
    }
    for channel, texts in channels.items():
        assert texts, f"{channel}: nothing arrived"
        assert not any(INTERNAL in t or DESK_NOTE in t for t in texts), channel

    # What the customer may see does arrive: the public note, the acknowledgement.
    for channel in ("webhook", "tmf621 hub", "stream", "ticket history"):
        assert any(PUBLIC in t for t in channels[channel]), channel
    for channel in ("webhook", "stream", "billing history"):
        assert any("billing.acknowledged" in t for t in channels[channel]), channel
    assert any("BR-" in m.subject for m in mailbox.mails)  # the acknowledgement's mail
    assert any(m.subject.startswith(f"[{ticket['number']}]") for m in mailbox.mails)
    # ... and the staff's own history keeps the desk's note.
    assert any(e["data"].get("note") == DESK_NOTE for e in staff_billing_history)


def test_every_staff_only_field_has_a_default_so_the_customers_view_stays_a_payload() -> None:
    # Mails and TMF621 tickets are built from the customer's view parsed back into its
    # payload model (`customer_payload`): a staff-only field needs a default to be left out.
    for cls in registered_classes():
        for name in cls.staff_only_fields():
            field = cls.model_fields[name]
            assert not field.is_required(), f"{cls.__name__}.{name} is {STAFF_ONLY} and required"
