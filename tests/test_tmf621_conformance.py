"""What TM Forum's TMF621 R18 conformance kit checks, in our own words (the kit itself runs with
`scripts/tmf621-ctk`, outside CI): a create with only the mandatory attributes, attributes the
provider sets accepted and ignored, `fields` and filters, bad input in TMF's error shape with
nothing changed, `Idempotency-Key` on create and hub registration, and a carrier's reach."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.roles import Role
from app.core.settings import Settings
from tests.support.world import World

TMF = "/tmf-api/troubleTicket/v4"
MANDATORY = {"description": "Customers in Cuenca lost their line", "severity": "High"}


@pytest.fixture
def settings() -> Settings:
    # Hub callbacks on loopback (nothing is delivered here).
    return Settings(
        env="test", database_url="postgresql+asyncpg://unused/unused", webhook_allow_private=True
    )


async def _carrier(world: World, name: str = "Carrier Co") -> tuple[dict[str, Any], dict[str, str]]:
    enterprise = await world.enterprise(name, "EC")
    return enterprise, await world.api_client(Role.carrier, enterprise["id"])


async def _count(world: World, headers: dict[str, str]) -> int:
    listed = await world.client.get(f"{TMF}/troubleTicket", headers=headers)
    assert listed.status_code == 200, listed.text
    return len(listed.json())


async def test_a_ticket_with_only_the_mandatory_attributes_opens_with_its_clocks_running(
    world: World,
) -> None:
    _, carrier = await _carrier(world)
    body = {**MANDATORY, "ticketType": "device"}
    created = await world.client.post(f"{TMF}/troubleTicket", json=body, headers=carrier)
    assert created.status_code == 201, created.text
    ticket = created.json()
    assert created.headers["content-type"].startswith("application/json")
    assert isinstance(ticket["id"], str)
    assert ticket["href"].endswith(ticket["id"])
    assert (ticket["description"], ticket["severity"], ticket["ticketType"]) == (
        MANDATORY["description"],
        "High",
        "device",
    )
    assert ticket["status"] == "acknowledged"
    assert ticket["relatedEntity"] == []  # no service named yet

    own = await world.client.get(f"/v1/tickets/{ticket['id']}", headers=carrier)
    assert own.status_code == 200, own.text
    assert own.json()["service_id"] is None
    assert own.json()["channel"] == "tmf621"
    assert own.json()["severity"] == "major"
    reception = own.json()["sla"][0]
    assert (reception["stage"], reception["state"], reception["target"]) == (
        "reception",
        "running",
        "PT1M",
    )
    listed = await world.client.get(f"{TMF}/troubleTicket", headers=carrier)
    assert [t["id"] for t in listed.json()] == [ticket["id"]]


async def test_attributes_the_provider_sets_are_accepted_and_ignored_on_create(
    world: World,
) -> None:
    _, carrier = await _carrier(world)
    body = {
        "description": "Packet loss",
        "severity": "Low",
        "ticketType": "connectivity",
        "status": "nanana",  # outside TMF's enumeration; the R18 kit expects 201
        "externalId": "123",
        "creationDate": "2020-01-01T00:00:00Z",
        "note": [
            {"author": "writer 1", "text": "first note"},
            {"author": "writer 2", "text": "second note"},
        ],
    }
    created = await world.client.post(f"{TMF}/troubleTicket", json=body, headers=carrier)
    assert created.status_code == 201, created.text
    ticket = created.json()
    assert ticket["status"] == "acknowledged"
    assert ticket["externalId"] == "123"
    assert [n["text"] for n in ticket["note"]] == ["first note", "second note"]
    assert not ticket["creationDate"].startswith("2020")


async def test_fields_answers_exactly_the_attributes_named_and_filters_select(
    world: World,
) -> None:
    _, carrier = await _carrier(world)
    high = await world.client.post(
        f"{TMF}/troubleTicket", json={**MANDATORY, "ticketType": "device"}, headers=carrier
    )
    low = await world.client.post(
        f"{TMF}/troubleTicket",
        json={"description": "Slow", "severity": "Low", "ticketType": "connectivity"},
        headers=carrier,
    )
    high_id, low_id = high.json()["id"], low.json()["id"]
    one = await world.client.get(
        f"{TMF}/troubleTicket/{high_id}", params={"fields": "description"}, headers=carrier
    )
    assert one.json() == {"description": MANDATORY["description"]}
    two = await world.client.get(
        f"{TMF}/troubleTicket/{low_id}", params={"fields": "severity,status"}, headers=carrier
    )
    assert two.json() == {"severity": "Low", "status": "acknowledged"}
    by_severity = await world.client.get(
        f"{TMF}/troubleTicket", params={"severity": "High"}, headers=carrier
    )
    assert [t["id"] for t in by_severity.json()] == [high_id]
    by_type = await world.client.get(
        f"{TMF}/troubleTicket",
        params={"ticketType": "connectivity", "fields": "id"},
        headers=carrier,
    )
    assert by_type.json() == [{"id": low_id}]


async def test_bad_input_is_a_tmf_error_and_changes_nothing(world: World) -> None:
    enterprise, carrier = await _carrier(world)
    _, other = await _carrier(world, "Another Carrier")
    theirs = await world.service((await world.enterprise("Theirs", "EC"))["id"])
    mine = await world.service(enterprise["id"])
    service = {"@referredType": "Service", "role": "affectedService"}
    bad_bodies = [
        MANDATORY,  # no ticketType
        {**MANDATORY, "ticketType": "problem", "note": {"author": "a note with no text"}},
        {**MANDATORY, "ticketType": "problem", "note": [{"author": "no text either"}]},
        {**MANDATORY, "ticketType": "problem", "relatedEntity": [{"id": mine["id"]}]},
        {**MANDATORY, "ticketType": "problem", "relatedEntity": [{**service, "id": theirs["id"]}]},
        {**MANDATORY, "ticketType": "problem", "severity": "not a severity"},
    ]
    for body in bad_bodies:
        refused = await world.client.post(f"{TMF}/troubleTicket", json=body, headers=carrier)
        assert refused.status_code == 400, (body, refused.text)
        error = refused.json()
        assert (error["code"], error["status"]) == ("400", "400"), error
        assert error["reason"], error
        assert error["message"], error
    assert await _count(world, carrier) == 0

    created = await world.client.post(
        f"{TMF}/troubleTicket", json={**MANDATORY, "ticketType": "problem"}, headers=carrier
    )
    url = f"{TMF}/troubleTicket/{created.json()['id']}"
    merge = {**carrier, "Content-Type": "application/merge-patch+json"}
    unknown_status = await world.client.patch(url, content=b'{"status": "nanana"}', headers=merge)
    assert unknown_status.status_code == 400, unknown_status.text
    assert "status" in unknown_status.json()["reason"]
    bad_filter = await world.client.get(
        f"{TMF}/troubleTicket", params={"status": "nanana"}, headers=carrier
    )
    assert bad_filter.status_code == 400
    assert (await world.client.get(url, headers=carrier)).json()["status"] == "acknowledged"
    # Another carrier's view: the ticket does not exist.
    assert (await world.client.get(url, headers=other)).status_code == 404
    patched = await world.client.patch(
        url, content=b'{"description": "mine now"}', headers={**merge, **other}
    )
    assert patched.status_code == 404
    assert patched.json()["code"] == "404"
    assert (await world.client.get(url, headers=carrier)).json()["description"] == (
        MANDATORY["description"]
    )


async def test_an_idempotency_key_replays_the_first_create(world: World) -> None:
    _, carrier = await _carrier(world)
    keyed = {**carrier, "Idempotency-Key": "tmf-create-1"}
    body = {**MANDATORY, "ticketType": "device", "note": [{"text": "seen at 10:02"}]}
    first = await world.client.post(f"{TMF}/troubleTicket", json=body, headers=keyed)
    again = await world.client.post(f"{TMF}/troubleTicket", json=body, headers=keyed)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await _count(world, carrier) == 1
    other_body = await world.client.post(
        f"{TMF}/troubleTicket", json={**body, "description": "another"}, headers=keyed
    )
    assert other_body.status_code == 400, other_body.text
    assert other_body.json()["code"] == "400"
    assert await _count(world, carrier) == 1


async def test_an_idempotency_key_replays_the_first_hub_registration(world: World) -> None:
    _, carrier = await _carrier(world)
    hub_key = {**carrier, "Idempotency-Key": "tmf-hub-1"}
    hub = {"callback": "http://127.0.0.1:9/listener"}
    registered = await world.client.post(f"{TMF}/hub", json=hub, headers=hub_key)
    replayed = await world.client.post(f"{TMF}/hub", json=hub, headers=hub_key)
    assert registered.status_code == replayed.status_code == 201, replayed.text
    assert replayed.json()["id"] == registered.json()["id"]
    assert replayed.headers["Idempotent-Replayed"] == "true"
    gone = await world.client.delete(f"{TMF}/hub/{registered.json()['id']}", headers=carrier)
    assert gone.status_code == 204


async def test_a_carrier_reaches_only_its_own_tickets_and_hubs_on_the_tmf_face(
    world: World,
) -> None:
    _, carrier = await _carrier(world)
    _, other = await _carrier(world, "Another Carrier")
    theirs = await world.client.post(
        f"{TMF}/troubleTicket", json={**MANDATORY, "ticketType": "device"}, headers=other
    )
    their_hub = await world.client.post(
        f"{TMF}/hub", json={"callback": "http://127.0.0.1:9/theirs"}, headers=other
    )
    ticket_url = f"{TMF}/troubleTicket/{theirs.json()['id']}"
    assert (await world.client.get(ticket_url, headers=carrier)).status_code == 404
    merge = {**carrier, "Content-Type": "application/merge-patch+json"}
    assert (await world.client.patch(ticket_url, content=b"{}", headers=merge)).status_code == 404
    hub_url = f"{TMF}/hub/{their_hub.json()['id']}"
    assert (await world.client.delete(hub_url, headers=carrier)).status_code == 404
    assert await _count(world, carrier) == 0
    own_ticket = f"/v1/tickets/{theirs.json()['id']}"
    assert (await world.client.get(own_ticket, headers=carrier)).status_code == 404
    # The carrier names no service: that is the provider's TSC's part.
    mine = await world.client.post(
        f"{TMF}/troubleTicket", json={**MANDATORY, "ticketType": "device"}, headers=carrier
    )
    naming = await world.client.patch(
        f"/v1/tickets/{mine.json()['id']}",
        json={"service_code": "ANY-CODE"},
        headers=carrier,
    )
    assert naming.status_code == 403, naming.text
    assert (await world.client.delete(hub_url, headers=other)).status_code == 204
