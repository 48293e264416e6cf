"""MEF LSO Sonata Trouble Ticket and Incident Management v4 for a wholesale carrier, with a
real hub listener on loopback."""

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
from app.services.sonata.rules import (
    IMPACT_OF_SEVERITY,
    SELLER_PRIORITY,
    SELLER_SEVERITY,
    SEVERITY_OF,
    STATUS_OF_STAGE,
    SonataSeverity,
    hub_event_types,
    sonata_status,
    subscribed_types,
)
from app.services.tickets.rules import Severity, Stage
from tests.support.servers import http_receiver
from tests.support.world import World

SONATA = "/mefApi/sonata/troubleTicket/v4"
LISTENER = "/hook/mefApi/sonata/troubleTicketNotification/v2/listener/"


@pytest.fixture
def settings() -> Settings:
    return Settings(
        env="test", database_url="postgresql+asyncpg://unused/unused", webhook_allow_private=True
    )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC))


@pytest.fixture
async def http() -> AsyncIterator[WebhookClient]:
    async with webhook_client() as client:
        yield client


def new_ticket(product: str, **extra: Any) -> dict[str, Any]:
    return {
        "description": "Loss of signal on the E1 since 10:02",
        "externalId": "WS-1001",
        "observedImpact": "down",
        "priority": "high",
        "severity": "extensive",
        "ticketType": "assistance",
        "relatedEntity": [{"id": product, "role": "affectedProduct", "@referredType": "Product"}],
        "relatedContactInformation": [
            {
                "name": "Wholesale NOC",
                "emailAddress": "noc@wholesale.example",
                "number": "+593 2 400 5124",
                "role": "reporter",
            }
        ],
        **extra,
    }


async def _move(world: World, staff: dict[str, str], ticket_id: str, *stages: str) -> None:
    for stage in stages:
        moved = await world.client.post(
            f"/v1/tickets/{ticket_id}/transitions", json={"to": stage}, headers=staff
        )
        assert moved.status_code == 200, moved.text


async def test_a_wholesale_carrier_works_tickets_over_sonata_and_its_hub_hears(
    world: World, settings: Settings, http: WebhookClient
) -> None:
    buyer = await world.enterprise("Wholesale Co", "EC")
    service = await world.service(buyer["id"])
    carrier = await world.api_client(Role.carrier, buyer["id"])
    staff = await world.staff(Role.tsc_engineer)
    async with http_receiver() as listener:
        key = {"Idempotency-Key": "hub-1"}
        hub = await world.client.post(
            f"{SONATA}/hub", json={"callback": listener.url}, headers={**carrier, **key}
        )
        assert hub.status_code == 201, hub.text
        again = await world.client.post(
            f"{SONATA}/hub", json={"callback": listener.url}, headers={**carrier, **key}
        )
        assert again.json()["id"] == hub.json()["id"]  # a retry registers nothing new
        read = await world.client.get(f"{SONATA}/hub/{hub.json()['id']}", headers=carrier)
        assert read.status_code == 200
        assert read.json()["callback"] == listener.url

        created = await world.client.post(
            f"{SONATA}/troubleTicket",
            json=new_ticket(service["code"]),
            headers={**carrier, "Idempotency-Key": "tt-1"},
        )
        assert created.status_code == 201, created.text
        ticket = created.json()
        assert created.headers["Location"] == f"{SONATA}/troubleTicket/{ticket['id']}"
        assert ticket["status"] == "acknowledged"
        assert (ticket["severity"], ticket["sellerSeverity"]) == ("extensive", "extensive")
        assert (ticket["priority"], ticket["sellerPriority"]) == ("high", "critical")
        assert ticket["relatedEntity"][0]["id"] == service["id"]
        assert ticket["relatedContactInformation"][0]["emailAddress"] == "noc@wholesale.example"
        replay = await world.client.post(
            f"{SONATA}/troubleTicket",
            json=new_ticket(service["code"]),
            headers={**carrier, "Idempotency-Key": "tt-1"},
        )
        assert replay.json()["id"] == ticket["id"]
        # The same ticket, the same id, on Carrier Desk's own API: its clocks running.
        own = (await world.client.get(f"/v1/tickets/{ticket['id']}", headers=carrier)).json()
        assert own["severity"] == "critical"
        assert own["external_id"] == "WS-1001"
        assert own["channel"] == "sonata"
        assert own["sla"][0]["state"] == "running"

        other = await world.client.post(
            f"{SONATA}/troubleTicket",
            json=new_ticket(service["id"], externalId="WS-1002", severity="minor"),
            headers=carrier,
        )
        assert other.status_code == 201, other.text
        listed = await world.client.get(
            f"{SONATA}/troubleTicket", params={"externalId": "WS-1001"}, headers=carrier
        )
        assert listed.status_code == 200, listed.text
        assert [t["id"] for t in listed.json()] == [ticket["id"]]
        assert listed.headers["X-Total-Count"] == "1"
        minor = await world.client.get(
            f"{SONATA}/troubleTicket", params={"severity": "minor"}, headers=carrier
        )
        assert [t["externalId"] for t in minor.json()] == ["WS-1002"]

        patched = await world.client.patch(
            f"{SONATA}/troubleTicket/{ticket['id']}",
            json={"priority": "critical", "note": [{"text": "Site access from 14:00"}]},
            headers=carrier,
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["priority"] == "critical"
        assert [(n["text"], n["source"]) for n in patched.json()["note"]] == [
            ("Site access from 14:00", "buyer")
        ]

        # The seller works the first ticket; the buyer cancels the second.
        await _move(world, staff, ticket["id"], "registration", "diagnosis")
        cancelled = await world.client.post(
            f"{SONATA}/troubleTicket/{other.json()['id']}/cancel", headers=carrier
        )
        assert cancelled.status_code == 204, cancelled.text
        gone = await world.client.get(
            f"{SONATA}/troubleTicket/{other.json()['id']}", headers=carrier
        )
        assert gone.json()["status"] == "cancelled"

        # A network incident on the buyer's product; the seller restores service.
        incident = await world.client.post(
            "/v1/incidents",
            json={
                "summary": "Fibre cut Quito-Guayaquil",
                "service_ids": [service["id"]],
                "ticket_ids": [ticket["id"]],
            },
            headers=staff,
        )
        assert incident.status_code == 201, incident.text
        await _move(world, staff, ticket["id"], "verification")
        resolved = await world.client.get(f"{SONATA}/troubleTicket/{ticket['id']}", headers=carrier)
        assert resolved.json()["status"] == "resolved"
        assert resolved.json()["relatedIssue"][0]["id"] == incident.json()["id"]

        closed = await world.client.post(
            f"{SONATA}/troubleTicket/{ticket['id']}/close", headers=carrier
        )
        assert closed.status_code == 204, closed.text
        final = (await world.client.get(f"/v1/tickets/{ticket['id']}", headers=staff)).json()
        assert (final["stage"], final["status"]) == ("closed", "closed")
        sonata = await world.client.get(f"{SONATA}/troubleTicket/{ticket['id']}", headers=carrier)
        assert [c["status"] for c in sonata.json()["statusChange"]] == [
            "acknowledged",
            "inProgress",
            "resolved",
            "closed",
        ]

        async with world.sessionmaker() as session:
            await fan_out_all(session, world.clock)
        await WebhookDispatcher(world.sessionmaker, world.clock, settings, http).run_until_idle()

    heard = [(r.path.removeprefix(LISTENER), r.json()) for r in listener.requests]
    for path, body in heard:
        assert path == body["eventType"]  # each event type at its own listener path
    about = [(path, body["event"]["id"]) for path, body in heard]
    assert about == [
        ("troubleTicketStatusChangeEvent", ticket["id"]),  # acknowledged -> inProgress
        ("troubleTicketStatusChangeEvent", other.json()["id"]),  # cancelled by the buyer
        ("incidentCreateEvent", incident.json()["id"]),
        ("troubleTicketResolvedEvent", ticket["id"]),
        ("troubleTicketStatusChangeEvent", ticket["id"]),  # closed
    ]
    assert all("webhook-signature" in r.headers for r in listener.requests)
    assert heard[0][1]["event"]["href"] == f"{SONATA}/troubleTicket/{ticket['id']}"

    gone_hub = await world.client.delete(f"{SONATA}/hub/{hub.json()['id']}", headers=carrier)
    assert gone_hub.status_code == 204
    assert (
        await world.client.get(f"{SONATA}/hub/{hub.json()['id']}", headers=carrier)
    ).status_code == 404


async def test_bad_input_is_told_in_the_specs_shape_and_changes_nothing(world: World) -> None:
    buyer = await world.enterprise("Wholesale Co", "EC")
    service = await world.service(buyer["id"])
    stranger = await world.enterprise("Other Carrier", "PE")
    foreign = await world.service(stranger["id"], city="Lima", country="PE")
    carrier = await world.api_client(Role.carrier, buyer["id"])

    async def tickets() -> list[Any]:
        listed = await world.client.get(f"{SONATA}/troubleTicket", headers=carrier)
        assert listed.status_code == 200, listed.text
        return list(listed.json())

    missing = {k: v for k, v in new_ticket(service["code"]).items() if k != "observedImpact"}
    answer = await world.client.post(f"{SONATA}/troubleTicket", json=missing, headers=carrier)
    assert answer.status_code == 422
    assert answer.json() == [
        {
            "code": "missingProperty",
            "reason": "observedImpact: Field required",
            "message": "Field required",
            "propertyPath": "/observedImpact",
        }
    ]

    unknown = new_ticket(service["code"], severity="catastrophic")
    answer = await world.client.post(f"{SONATA}/troubleTicket", json=unknown, headers=carrier)
    assert answer.status_code == 422
    assert [(e["code"], e["propertyPath"]) for e in answer.json()] == [
        ("invalidValue", "/severity")
    ]

    theirs = new_ticket(foreign["code"])
    answer = await world.client.post(f"{SONATA}/troubleTicket", json=theirs, headers=carrier)
    assert answer.status_code == 422
    assert [(e["code"], e["propertyPath"]) for e in answer.json()] == [
        ("referenceNotFound", "/relatedEntity/0/id")
    ]

    answer = await world.client.post(
        f"{SONATA}/troubleTicket",
        content=b"{not json",
        headers={**carrier, "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalidBody"
    answer = await world.client.get(
        f"{SONATA}/troubleTicket", params={"colour": "red"}, headers=carrier
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalidQuery"
    answer = await world.client.get(
        f"{SONATA}/troubleTicket", params={"status": "nanana"}, headers=carrier
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalidQuery"
    assert await tickets() == []

    created = await world.client.post(
        f"{SONATA}/troubleTicket", json=new_ticket(service["code"]), headers=carrier
    )
    ticket = created.json()
    for task in ("close", "reopen"):  # a ticket not yet resolved
        answer = await world.client.post(
            f"{SONATA}/troubleTicket/{ticket['id']}/{task}", headers=carrier
        )
        assert answer.status_code == 409, answer.text
        assert answer.json()["code"] == "conflict"
        assert "acknowledged" in answer.json()["message"]
    await world.client.post(f"{SONATA}/troubleTicket/{ticket['id']}/cancel", headers=carrier)
    answer = await world.client.post(
        f"{SONATA}/troubleTicket/{ticket['id']}/cancel", headers=carrier
    )
    assert answer.status_code == 409
    assert answer.json()["code"] == "conflict"
    assert [t["status"] for t in await tickets()] == ["cancelled"]
    statuses = await world.client.get(f"{SONATA}/troubleTicket/{ticket['id']}", headers=carrier)
    assert [c["status"] for c in statuses.json()["statusChange"]] == ["acknowledged", "cancelled"]

    # Another buyer's ticket does not exist for this one; nor does a ticket of no buyer's.
    other = await world.api_client(Role.carrier, stranger["id"])
    for path in (f"/troubleTicket/{ticket['id']}", "/troubleTicket/TT-1"):
        answer = await world.client.get(f"{SONATA}{path}", headers=other)
        assert answer.status_code == 404
        assert answer.json()["code"] == "notFound"
    answer = await world.client.get(f"{SONATA}/troubleTicket", headers={})
    assert answer.status_code == 401
    assert answer.json()["code"] == "missingCredentials"
    customer = await world.api_client(Role.customer_user, buyer["id"])
    answer = await world.client.post(
        f"{SONATA}/troubleTicket", json=new_ticket(service["code"]), headers=customer
    )
    assert answer.status_code == 403
    assert answer.json()["code"] == "accessDenied"


def test_the_mapping_tables_cover_every_stage_and_severity() -> None:
    assert set(STATUS_OF_STAGE) == {s.value for s in Stage}
    for table in (SELLER_SEVERITY, SELLER_PRIORITY, IMPACT_OF_SEVERITY):
        assert set(table) == {s.value for s in Severity}
    assert set(SEVERITY_OF) == set(SonataSeverity)
    assert set(SEVERITY_OF.values()) <= {s.value for s in Severity}
    assert sonata_status("diagnosis", "waiting_for_customer") == "pending"
    assert sonata_status("verification", "open", reopened_stage="verification") == "reopened"
    assert sonata_status("stability", "open", reopened_stage="verification") == "resolved"
    into_verification = {"from": "diagnosis", "to": "verification"}
    assert hub_event_types("ticket.stage_changed", into_verification) == [
        "troubleTicketResolvedEvent",
        "troubleTicketStatusChangeEvent",
    ]
    assert hub_event_types("ticket.stage_changed", {"from": "dispatch", "to": "field_repair"}) == []
    assert hub_event_types("ticket.held", {}) == ["troubleTicketInformationRequiredEvent"]
    assert subscribed_types(" eventType = incidentCreateEvent,troubleTicketResolvedEvent") == [
        "incidentCreateEvent",
        "troubleTicketResolvedEvent",
    ]
    with pytest.raises(ValueError, match="unknown eventType"):
        subscribed_types("eventType=ticketEaten")


async def test_a_buyer_reopens_a_resolved_ticket_opened_elsewhere(world: World) -> None:
    buyer = await world.enterprise("Wholesale Co", "EC")
    service = await world.service(buyer["id"])
    carrier = await world.api_client(Role.carrier, buyer["id"])
    staff = await world.staff(Role.tsc_engineer)
    contact = {"name": "NOC", "phone": "+593 2 400 5124", "email": "noc@wholesale.example"}
    opened = await world.client.post(
        "/v1/tickets",
        json={
            "service_id": service["id"],
            "severity": "major",
            "summary": "Flapping",
            "contact": contact,
        },
        headers=carrier,
    )
    ticket_id = opened.json()["id"]
    url = f"{SONATA}/troubleTicket/{ticket_id}"
    shown = (await world.client.get(url, headers=carrier)).json()
    # Opened on /v1: its Sonata values follow from its own severity.
    assert (shown["severity"], shown["priority"], shown["observedImpact"]) == (
        "significant",
        "high",
        "degraded",
    )
    patched = await world.client.patch(
        url, json={"observedImpact": "intermittent"}, headers=carrier
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["observedImpact"] == "intermittent"
    assert patched.json()["priority"] == "high"

    await _move(world, staff, ticket_id, "registration", "diagnosis", "verification")
    reopened = await world.client.post(f"{url}/reopen", headers=carrier)
    assert reopened.status_code == 204, reopened.text
    now = (await world.client.get(url, headers=carrier)).json()
    assert now["status"] == "reopened"
    assert now["note"][-1]["text"].startswith("Reopened by the buyer")
    listed = await world.client.get(
        f"{SONATA}/troubleTicket", params={"status": "reopened"}, headers=carrier
    )
    assert [t["id"] for t in listed.json()] == [ticket_id]
    refused = await world.client.post(f"{url}/close", headers=carrier)
    assert refused.status_code == 409  # the seller works it again before asking to close
    await _move(world, staff, ticket_id, "stability")
    assert (await world.client.get(url, headers=carrier)).json()["status"] == "resolved"
    assert (await world.client.post(f"{url}/close", headers=carrier)).status_code == 204
