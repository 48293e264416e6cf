"""TMF621 Trouble Ticket v4 for carriers, with a real hub listener on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from app.core.clock import FrozenClock
from app.core.roles import Role
from app.core.settings import Settings
from app.services.delivery.dispatcher import WebhookDispatcher, webhook_client
from app.services.delivery.fanout import fan_out_all
from app.services.delivery.http1 import WebhookClient
from app.services.tmf621.rules import carrier_desk_severity, tmf_event_type, tmf_status
from tests.support.servers import http_receiver
from tests.support.world import World

TMF = "/tmf-api/troubleTicket/v4"


@pytest.fixture
def settings() -> Settings:
    return Settings(
        env="test",
        database_url="postgresql+asyncpg://unused/unused",
        webhook_allowed_networks=["127.0.0.1/32"],  # the hub listeners, on loopback
    )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC))


@pytest.fixture
async def http() -> AsyncIterator[WebhookClient]:
    async with webhook_client() as client:  # the worker's own client
        yield client


def new_ticket(service: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": "E1 down between Quito and Guayaquil",
        "description": "Loss of signal on the E1 since 10:02",
        "severity": "Urgent",
        "ticketType": "Incident",
        "externalId": "OSS-77812",
        "relatedEntity": [
            {"id": service["code"], "role": "affectedService", "@referredType": "Service"}
        ],
        "relatedParty": [
            {
                "id": "noc@carrier.example",
                "name": "Carrier NOC",
                "role": "reporter",
                "@referredType": "Individual",
            }
        ],
        "@type": "TroubleTicket",
        **extra,
    }


async def test_a_carrier_creates_reads_filters_and_patches_a_ticket_and_its_hub_hears(
    world: World, settings: Settings, http: WebhookClient
) -> None:
    carrier_co = await world.enterprise("Carrier Co", "EC")
    service = await world.service(carrier_co["id"])
    carrier = await world.api_client(Role.carrier, carrier_co["id"])
    async with http_receiver() as hub_listener:
        hub = await world.client.post(
            f"{TMF}/hub",
            json={"callback": hub_listener.url, "query": "eventType=TroubleTicketCreateEvent"},
            headers=carrier,
        )
        assert hub.status_code == 201, hub.text
        assert hub.json()["callback"] == hub_listener.url

        created = await world.client.post(
            f"{TMF}/troubleTicket", json=new_ticket(service), headers=carrier
        )
        assert created.status_code == 201, created.text
        ticket = created.json()
        assert created.headers["Location"] == f"{TMF}/troubleTicket/{ticket['id']}"
        assert ticket["status"] == "acknowledged"
        assert ticket["severity"] == "Urgent"  # kept as given
        assert ticket["ticketType"] == "Incident"
        assert ticket["externalId"] == "OSS-77812"
        assert ticket["relatedEntity"][0]["id"] == service["id"]

        # The same ticket, seen through Carrier Desk's own API.
        own = (await world.client.get(f"/v1/tickets/{ticket['id']}", headers=carrier)).json()
        assert own["severity"] == "critical"
        assert own["external_id"] == "OSS-77812"

        read = await world.client.get(
            f"{TMF}/troubleTicket/{ticket['id']}",
            params={"fields": "status,severity"},
            headers=carrier,
        )
        assert read.status_code == 200
        assert set(read.json()) == {"status", "severity"}  # exactly the attributes named

        await world.client.post(
            f"{TMF}/troubleTicket",
            json=new_ticket(service, externalId="OSS-2", severity="minor", ticketType="Query"),
            headers=carrier,
        )
        listed = await world.client.get(
            f"{TMF}/troubleTicket", params={"ticketType": "Incident"}, headers=carrier
        )
        assert listed.status_code == 200
        assert [t["externalId"] for t in listed.json()] == ["OSS-77812"]
        assert listed.headers["X-Total-Count"] == "1"
        assert listed.headers["X-Result-Count"] == "1"
        page = await world.client.get(
            f"{TMF}/troubleTicket",
            params={"status": "acknowledged", "limit": 1, "offset": 1, "fields": "externalId"},
            headers=carrier,
        )
        assert page.headers["X-Total-Count"] == "2"
        assert [t["externalId"] for t in page.json()] == ["OSS-2"]

        patched = await world.client.patch(
            f"{TMF}/troubleTicket/{ticket['id']}",
            content=b'{"severity": "major", "note": [{"text": "Customer power checked"}]}',
            headers={**carrier, "Content-Type": "application/merge-patch+json"},
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["severity"] == "major"
        assert patched.json()["note"][0]["text"] == "Customer power checked"
        assert patched.json()["ticketType"] == "Incident"
        own = (await world.client.get(f"/v1/tickets/{ticket['id']}", headers=carrier)).json()
        assert own["severity"] == "major"

        async with world.sessionmaker() as session:
            await fan_out_all(session, world.clock)
        await WebhookDispatcher(world.sessionmaker, world.clock, settings, http).run_until_idle()

    # Only the create events: the hub asked for those.
    received = [r.json() for r in hub_listener.requests]
    assert [e["eventType"] for e in received] == ["TroubleTicketCreateEvent"] * 2
    first = received[0]
    assert first["event"]["troubleTicket"]["id"] == ticket["id"]
    assert first["event"]["troubleTicket"]["externalId"] == "OSS-77812"
    assert "webhook-signature" in hub_listener.requests[0].headers


async def test_tmf_errors_use_tmf_shape(world: World) -> None:
    carrier_co = await world.enterprise("Carrier Co", "EC")
    service = await world.service(carrier_co["id"])
    carrier = await world.api_client(Role.carrier, carrier_co["id"])
    for missing in ("ticketType", "description"):
        body = new_ticket(service)
        del body[missing]
        response = await world.client.post(f"{TMF}/troubleTicket", json=body, headers=carrier)
        assert response.status_code == 400
        error = response.json()
        assert set(error) >= {"code", "reason", "message", "status"}
        assert missing in error["reason"]
    unknown = await world.client.get(
        f"{TMF}/troubleTicket/00000000-0000-0000-0000-000000000000", headers=carrier
    )
    assert unknown.status_code == 404
    assert unknown.json()["status"] == "404"
    bad_severity = await world.client.post(
        f"{TMF}/troubleTicket", json=new_ticket(service, severity="whatever"), headers=carrier
    )
    assert bad_severity.status_code == 400
    assert "severity" in bad_severity.json()["message"]
    first = await world.client.post(
        f"{TMF}/troubleTicket", json=new_ticket(service), headers=carrier
    )
    assert first.status_code == 201
    again = await world.client.post(
        f"{TMF}/troubleTicket", json=new_ticket(service), headers=carrier
    )
    assert again.status_code == 409  # the same externalId: the carrier's ticket exists
    assert again.json()["code"] == "409"
    listed = await world.client.get(f"{TMF}/troubleTicket", headers=carrier)
    assert listed.headers["X-Total-Count"] == "1"
    unsigned = await world.client.get(f"{TMF}/troubleTicket")
    assert unsigned.status_code == 401
    assert unsigned.json()["code"] == "401"
    not_json = await world.client.post(
        f"{TMF}/troubleTicket",
        content=b"ticketType=incident",
        headers={**carrier, "Content-Type": "application/json"},
    )
    assert not_json.status_code == 400
    assert not_json.json()["code"] == "400"


async def test_a_ticket_of_another_enterprise_is_not_found_through_tmf(world: World) -> None:
    mine = await world.enterprise("Mine", "EC")
    theirs = await world.enterprise("Theirs", "EC")
    their_service = await world.service(theirs["id"])
    them = await world.api_client(Role.carrier, theirs["id"])
    me = await world.api_client(Role.carrier, mine["id"])
    created = await world.client.post(
        f"{TMF}/troubleTicket", json=new_ticket(their_service), headers=them
    )
    ticket_id = created.json()["id"]
    assert (
        await world.client.get(f"{TMF}/troubleTicket/{ticket_id}", headers=me)
    ).status_code == 404
    assert (await world.client.get(f"{TMF}/troubleTicket", headers=me)).json() == []


def test_status_and_severity_follow_the_documented_tables() -> None:
    assert tmf_status("reception", "open") == "acknowledged"
    assert tmf_status("registration", "open") == "acknowledged"
    for stage in ("diagnosis", "dispatch", "field_repair", "verification"):
        assert tmf_status(stage, "open") == "inProgress"
    assert tmf_status("diagnosis", "waiting_for_customer") == "pending"
    assert tmf_status("stability", "open") == "resolved"
    assert tmf_status("closure", "open") == "resolved"
    assert tmf_status("closed", "closed") == "closed"
    assert tmf_status("diagnosis", "cancelled") == "cancelled"
    assert carrier_desk_severity("Urgent") == "critical"
    assert carrier_desk_severity(" HIGH ") == "major"
    assert carrier_desk_severity("Sev 3") == "minor"
    assert carrier_desk_severity("unheard of") is None
    assert (
        tmf_event_type("ticket.stage_changed", {"from": "reception", "to": "registration"}) is None
    )
    assert (
        tmf_event_type("ticket.stage_changed", {"from": "registration", "to": "diagnosis"})
        == "TroubleTicketStatusChangeEvent"
    )
    assert (
        tmf_event_type("ticket.stage_changed", {"from": "verification", "to": "stability"})
        == "TroubleTicketResolvedEvent"
    )
    assert tmf_event_type("ticket.note_added", {"visibility": "internal"}) is None


async def test_a_hub_hears_status_changes_until_it_unregisters(
    world: World, settings: Settings, http: WebhookClient
) -> None:
    carrier_co = await world.enterprise("Carrier Co", "EC")
    service = await world.service(carrier_co["id"])
    carrier = await world.api_client(Role.carrier, carrier_co["id"])
    staff = await world.staff(Role.tsc_engineer)

    async def deliver() -> None:
        async with world.sessionmaker() as session:
            await fan_out_all(session, world.clock)
        await WebhookDispatcher(world.sessionmaker, world.clock, settings, http).run_until_idle()

    async with http_receiver() as listener:
        hub = (
            await world.client.post(f"{TMF}/hub", json={"callback": listener.url}, headers=carrier)
        ).json()
        ticket = (
            await world.client.post(
                f"{TMF}/troubleTicket", json=new_ticket(service), headers=carrier
            )
        ).json()
        for stage in ("registration", "diagnosis"):
            moved = await world.client.post(
                f"/v1/tickets/{ticket['id']}/transitions", json={"to": stage}, headers=staff
            )
            assert moved.status_code == 200, moved.text
        await deliver()
        events = [r.json() for r in listener.requests]
        assert [e["eventType"] for e in events] == [
            "TroubleTicketCreateEvent",
            "TroubleTicketStatusChangeEvent",
        ]
        assert events[1]["event"]["troubleTicket"]["status"] == "inProgress"
        gone = await world.client.delete(f"{TMF}/hub/{hub['id']}", headers=carrier)
        assert gone.status_code == 204
        await world.client.post(
            f"/v1/tickets/{ticket['id']}/hold", json={"reason": "Waiting for access"}, headers=staff
        )
        await deliver()
    assert len(listener.requests) == 2
    again = await world.client.delete(f"{TMF}/hub/{hub['id']}", headers=carrier)
    assert again.status_code == 404
