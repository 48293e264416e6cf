"""Tickets through the API, as a customer NOC and the TSC would use them."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
from pydantic import EmailStr, TypeAdapter
from sqlalchemy import select

from app.core.roles import Role
from app.models import Event, OutboxMessage
from tests.support.tickets import make_desk
from tests.support.world import World

FULL_PATH = [
    ("registration", "PT4M"),
    ("diagnosis", "PT20M"),
    ("dispatch", "PT3H"),
    ("field_repair", "PT4H"),
    ("verification", "PT10M"),
    ("stability", "PT6H"),
    ("closure", "PT30M"),
]


def clocks(ticket: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["stage"]: c for c in ticket["sla"]}


async def test_a_ticket_in_quito_starts_in_reception_with_one_minute_and_main_tier(
    world: World,
) -> None:
    desk = await make_desk(world, city="Quito")
    ticket = await desk.open()
    assert re.fullmatch(r"TT-2026-\d{6}", ticket["number"])
    assert ticket["stage"] == "reception"
    assert ticket["status"] == "open"
    assert ticket["city_tier"] == "main"
    (reception,) = ticket["sla"]
    assert reception["target"] == "PT1M"
    assert reception["due_at"] == "2026-11-23T15:01:00Z"
    assert reception["state"] == "running"
    read = await world.client.get(f"/v1/tickets/{ticket['id']}", headers=desk.customer)
    assert read.status_code == 200
    assert read.headers["ETag"] == 'W/"1"'
    assert read.json() == ticket


async def test_a_ticket_says_how_it_reached_the_tsc(world: World) -> None:
    desk = await make_desk(world)
    assert (await desk.open())["channel"] == "api"  # a NOC system's API client
    person = await world.user(Role.customer_user, desk.enterprise["id"])
    body = {
        "service_id": desk.service["id"],
        "severity": "minor",
        "summary": "Slow link",
        "contact": {"name": "Ana", "phone": "+593 2 400 5124", "email": "ana@example.com"},
    }
    opened = await world.client.post("/v1/tickets", json=body, headers=person)
    assert opened.status_code == 201, opened.text
    assert opened.json()["channel"] == "portal"  # a person signed in
    read = await world.client.get(f"/v1/tickets/{opened.json()['id']}", headers=person)
    assert read.json()["channel"] == "portal"


async def test_walking_every_stage_meets_every_target(world: World) -> None:
    desk = await make_desk(world, city="Quito")
    ticket = await desk.open()
    for stage, target in FULL_PATH:
        world.clock.advance(timedelta(seconds=30))
        ticket = await desk.move(ticket["id"], stage)
        assert ticket["stage"] == stage
        assert clocks(ticket)[stage]["target"] == target
    world.clock.advance(timedelta(minutes=5))
    ticket = await desk.move(ticket["id"], "closed", note="fault: fibre cut; fixed by splice")
    assert ticket["status"] == "closed"
    assert [c["state"] for c in ticket["sla"]] == ["met"] * 8
    types = [e["type"] for e in await desk.events(ticket["id"])]
    assert types[0] == "ticket.created"
    assert types[-1] == "ticket.closed"
    assert types.count("ticket.stage_changed") == 7


async def test_an_intermediate_city_gets_six_hours_of_dispatch(world: World) -> None:
    desk = await make_desk(world, city="Ambato")
    ticket = await desk.open()
    assert ticket["city_tier"] == "intermediate"
    for stage in ("registration", "diagnosis", "dispatch"):
        ticket = await desk.move(ticket["id"], stage)
    assert clocks(ticket)["dispatch"]["target"] == "PT6H"


async def test_a_remote_site_needs_an_eta_in_the_future(world: World) -> None:
    tier = await world.client.put(
        "/v1/city-tiers/EC/Nuevo Rocafuerte", json={"tier": "remote"}, headers=world.admin
    )
    assert tier.status_code == 200, tier.text
    desk = await make_desk(world, city="Nuevo Rocafuerte")
    ticket = await desk.open()
    assert ticket["city_tier"] == "remote"
    for stage in ("registration", "diagnosis"):
        ticket = await desk.move(ticket["id"], stage)
    url = f"/v1/tickets/{ticket['id']}/transitions"
    missing = await world.client.post(url, json={"to": "dispatch"}, headers=desk.staff)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "eta"
    past = await world.client.post(
        url, json={"to": "dispatch", "eta": "2026-11-23T14:00:00Z"}, headers=desk.staff
    )
    assert past.status_code == 422
    assert past.json()["errors"][0]["field"] == "eta"
    ticket = await desk.move(ticket["id"], "dispatch", eta="2026-11-24T12:00:00Z")
    assert clocks(ticket)["dispatch"]["due_at"] == "2026-11-24T12:00:00Z"
    types = [e["type"] for e in await desk.events(ticket["id"])]
    assert types.count("ticket.stage_changed") == 3  # the refused moves left no trace


async def test_a_hold_pushes_the_due_time_by_its_length(world: World) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    ticket = await desk.move(ticket["id"], "registration")
    due = clocks(ticket)["registration"]["due_at"]
    assert due == "2026-11-23T15:04:00Z"
    held = await world.client.post(
        f"/v1/tickets/{ticket['id']}/hold", json={"reason": "no site access"}, headers=desk.staff
    )
    assert held.status_code == 200
    assert held.json()["status"] == "waiting_for_customer"
    assert clocks(held.json())["registration"]["state"] == "paused"
    world.clock.advance(timedelta(seconds=7))
    resumed = await world.client.post(f"/v1/tickets/{ticket['id']}/resume", headers=desk.customer)
    assert resumed.status_code == 200, resumed.text
    clock = clocks(resumed.json())["registration"]
    assert clock["due_at"] == "2026-11-23T15:04:07Z"
    assert clock["paused_seconds"] == 7.0
    assert clock["state"] == "running"
    again = await world.client.post(f"/v1/tickets/{ticket['id']}/resume", headers=desk.staff)
    assert again.status_code == 409
    types = [e["type"] for e in await desk.events(ticket["id"])]
    assert types[-2:] == ["ticket.held", "ticket.resumed"]


async def test_skipped_or_backward_moves_are_409_and_customers_may_not_move(world: World) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    url = f"/v1/tickets/{ticket['id']}/transitions"
    skip = await world.client.post(url, json={"to": "diagnosis"}, headers=desk.staff)
    assert skip.status_code == 409
    assert skip.json()["allowed_moves"] == ["registration", "cancelled"]
    assert skip.json()["current_status"] == "reception"
    await desk.move(ticket["id"], "registration")
    back = await world.client.post(url, json={"to": "reception"}, headers=desk.staff)
    assert back.status_code == 409
    carrier = await world.api_client(Role.carrier, desk.enterprise["id"])
    for headers in (desk.customer, carrier):
        denied = await world.client.post(url, json={"to": "diagnosis"}, headers=headers)
        assert denied.status_code == 403
    read = await world.client.get(f"/v1/tickets/{ticket['id']}", headers=desk.customer)
    assert read.json()["stage"] == "registration"


async def test_cancel_from_any_open_stage_and_nothing_after(world: World) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    ticket = await desk.move(ticket["id"], "cancelled", note="opened by mistake")
    assert ticket["status"] == "cancelled"
    late = await world.client.post(
        f"/v1/tickets/{ticket['id']}/transitions", json={"to": "registration"}, headers=desk.staff
    )
    assert late.status_code == 409


async def test_reported_at_is_for_staff_only_and_never_in_the_future(world: World) -> None:
    desk = await make_desk(world)
    body = {
        "service_id": desk.service["id"],
        "severity": "critical",
        "summary": "Phoned in",
        "contact": {"name": "Guard desk"},
    }
    by_customer = await world.client.post(
        "/v1/tickets", json={**body, "reported_at": "2026-11-23T14:50:00Z"}, headers=desk.customer
    )
    assert by_customer.status_code == 403
    future = await world.client.post(
        "/v1/tickets", json={**body, "reported_at": "2026-11-23T16:00:00Z"}, headers=desk.staff
    )
    assert future.status_code == 422
    assert future.json()["errors"][0]["field"] == "reported_at"
    ok = await world.client.post(
        "/v1/tickets", json={**body, "reported_at": "2026-11-23T14:59:30Z"}, headers=desk.staff
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["sla"][0]["started_at"] == "2026-11-23T14:59:30Z"
    assert ok.json()["sla"][0]["due_at"] == "2026-11-23T15:00:30Z"


async def test_same_external_id_is_409_naming_the_ticket_and_retries_replay(world: World) -> None:
    desk = await make_desk(world)
    first = await desk.open(external_id="CARRIER-77")
    dup = await world.client.post(
        "/v1/tickets",
        json={
            "service_id": desk.service["id"],
            "severity": "minor",
            "summary": "again",
            "contact": {"name": "x"},
            "external_id": "CARRIER-77",
        },
        headers=desk.customer,
    )
    assert dup.status_code == 409
    assert first["number"] in dup.json()["detail"]
    assert dup.json()["existing_ticket"]["id"] == first["id"]

    body = {
        "service_code": desk.service["code"],
        "severity": "minor",
        "summary": "Jitter",
        "contact": {"name": "x"},
    }
    headers = {**desk.customer, "Idempotency-Key": "k-1"}
    a = await world.client.post("/v1/tickets", json=body, headers=headers)
    b = await world.client.post("/v1/tickets", json=body, headers=headers)
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] == b.json()["id"]
    assert b.headers["Idempotent-Replayed"] == "true"
    page = await world.client.get("/v1/tickets?limit=10", headers=desk.customer)
    assert len(page.json()["items"]) == 2


async def _bad(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> str:
    response = await client.post("/v1/tickets", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return str(response.json()["errors"][0]["field"])


async def test_bad_intake_names_the_field_and_creates_nothing(world: World) -> None:
    desk = await make_desk(world)
    other = await world.enterprise("Otra SA", "EC")
    foreign = await world.service(other["id"])
    good = {
        "service_id": desk.service["id"],
        "severity": "major",
        "summary": "Down",
        "contact": {"name": "NOC", "email": "noc@example.com", "phone": "+593 2 400 5124"},
    }
    c, h = world.client, desk.customer
    assert await _bad(c, h, {**good, "severity": "apocalyptic"}) == "severity"
    assert await _bad(c, h, {**good, "summary": ""}) == "summary"
    assert await _bad(c, h, {**good, "contact": {"name": "x", "email": "nope"}}) == "contact.email"
    assert await _bad(c, h, {**good, "contact": {"name": "x", "phone": "12"}}) == "contact.phone"
    assert await _bad(c, h, {**good, "service_id": foreign["id"]}) == "service_id"
    page = await world.client.get("/v1/tickets", headers=desk.staff)
    assert page.json()["items"] == []


async def test_a_contact_is_checked_alike_every_time(world: World) -> None:
    # Addresses and numbers are checked once per process and the verdict remembered: a refused
    # one stays refused, an accepted one comes back as pydantic's EmailStr writes it.
    desk = await make_desk(world)
    c, h = world.client, desk.customer
    good = {"service_id": desk.service["id"], "severity": "major", "summary": "Down"}
    for _ in range(2):
        bad_email = {**good, "contact": {"name": "x", "email": "noc@example"}}
        assert await _bad(c, h, bad_email) == "contact.email"
        assert await _bad(c, h, {**good, "contact": {"name": "x", "phone": "+593 2"}}) == (
            "contact.phone"
        )
    contact = {"name": "NOC", "email": "NOC@Exämple.com", "phone": "+593 2 400 5124"}
    for _ in range(2):
        ticket = await desk.open(contact=contact)
        assert ticket["contact"] == {
            **contact,
            "email": TypeAdapter(EmailStr).validate_python(contact["email"]),
        }


async def test_another_tenants_ticket_is_404(world: World) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    other = await world.enterprise("Otra SA", "EC")
    stranger = await world.api_client(Role.customer_admin, other["id"])
    for method, path, body in [
        ("GET", "", None),
        ("PATCH", "", {"severity": "minor"}),
        ("GET", "/events", None),
        ("POST", "/notes", {"body": "hi"}),
        ("POST", "/escalations", {"reason": "why"}),
        ("POST", "/resume", None),
    ]:
        response = await world.client.request(
            method, f"/v1/tickets/{ticket['id']}{path}", json=body, headers=stranger
        )
        assert response.status_code == 404, (method, path, response.status_code)
    # Moves are staff work: a customer's role is refused before any ticket is looked up, so
    # the answer is the same 403 for its own tickets and for ids it cannot see.
    for path, body in [("/transitions", {"to": "registration"}), ("/hold", {"reason": "x"})]:
        response = await world.client.post(
            f"/v1/tickets/{ticket['id']}{path}", json=body, headers=stranger
        )
        assert response.status_code == 403, (path, response.status_code)
    listed = await world.client.get("/v1/tickets", headers=stranger)
    assert listed.json()["items"] == []


async def test_patch_needs_a_fresh_etag(world: World) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    url = f"/v1/tickets/{ticket['id']}"
    ok = await world.client.patch(
        url, json={"severity": "critical"}, headers={**desk.customer, "If-Match": 'W/"1"'}
    )
    assert ok.status_code == 200
    assert ok.json()["severity"] == "critical"
    assert ok.headers["ETag"] == 'W/"2"'
    stale = await world.client.patch(
        url, json={"description": "late"}, headers={**desk.customer, "If-Match": 'W/"1"'}
    )
    assert stale.status_code == 412
    nope = await world.client.patch(url, json={"summary": "no"}, headers=desk.customer)
    assert nope.status_code == 422
    assert (await world.client.get(url, headers=desk.customer)).json()["description"] == ""


async def test_list_filters_and_pages(world: World) -> None:
    desk = await make_desk(world)
    a = await desk.open(severity="critical")
    world.clock.advance(timedelta(seconds=1))
    b = await desk.open(severity="minor")
    world.clock.advance(timedelta(seconds=1))
    await desk.move(b["id"], "registration")

    async def ids(query: str) -> list[str]:
        response = await world.client.get(f"/v1/tickets?{query}", headers=desk.customer)
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()["items"]]

    assert await ids("severity=critical") == [a["id"]]
    assert await ids("stage=registration") == [b["id"]]
    assert await ids("status=open") == [a["id"], b["id"]]
    assert await ids("breached=true") == []
    assert await ids("updated_since=2026-11-23T15:00:02Z") == [b["id"]]
    assert await ids(f"enterprise_id={desk.enterprise['id']}&limit=1") == [a["id"]]
    first = await world.client.get("/v1/tickets?limit=1", headers=desk.customer)
    cursor = first.json()["next_cursor"]
    second = await world.client.get(f"/v1/tickets?limit=1&cursor={cursor}", headers=desk.customer)
    assert [t["id"] for t in second.json()["items"]] == [b["id"]]
    bad = await world.client.get("/v1/tickets?severity=huge", headers=desk.customer)
    assert bad.status_code == 422


async def test_notes_internal_ones_stay_with_staff(world: World) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    url = f"/v1/tickets/{ticket['id']}/notes"
    public = await world.client.post(url, json={"body": "Router rebooted"}, headers=desk.customer)
    assert public.status_code == 201
    internal = await world.client.post(
        url, json={"body": "suspect the PE", "visibility": "internal"}, headers=desk.staff
    )
    assert internal.status_code == 201
    denied = await world.client.post(
        url, json={"body": "x", "visibility": "internal"}, headers=desk.customer
    )
    assert denied.status_code == 403
    seen = await world.client.get(f"/v1/tickets/{ticket['id']}/events", headers=desk.customer)
    bodies = [
        e["data"].get("body") for e in seen.json()["items"] if e["type"] == "ticket.note_added"
    ]
    assert bodies == ["Router rebooted"]
    staff_bodies = [
        e["data"]["body"]
        for e in await desk.events(ticket["id"])
        if e["type"] == "ticket.note_added"
    ]
    assert staff_bodies == ["Router rebooted", "suspect the PE"]


async def test_customer_escalation_names_the_matrix_and_the_after_hours_line(
    world: World,
) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    url = f"/v1/tickets/{ticket['id']}/escalations"
    day = await world.client.post(url, json={"reason": "no news"}, headers=desk.customer)
    assert day.status_code == 201
    assert day.json()["escalation_level"] == 1
    world.clock.advance(timedelta(hours=10))  # 01:00 in Quito: the office is closed
    night = await world.client.post(url, json={"reason": "still down"}, headers=desk.customer)
    assert night.json()["escalation_level"] == 2
    escalations = [
        e["data"] for e in await desk.events(ticket["id"]) if e["type"] == "ticket.escalated"
    ]
    assert [e["level"] for e in escalations] == [1, 2]
    assert escalations[0]["escalation"]["role"] == "TSC supervisor"
    assert escalations[0]["escalation"]["after_hours"] is None
    assert escalations[1]["escalation"]["after_hours"]["e164"] == "+59324005124"
    await world.client.post(url, json={"reason": "3"}, headers=desk.customer)
    top = await world.client.post(url, json={"reason": "4"}, headers=desk.customer)
    assert top.status_code == 409


async def test_every_event_has_its_outbox_row(world: World) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    await desk.move(ticket["id"], "registration")
    async with world.sessionmaker() as session:
        rows = (
            await session.execute(
                select(Event.type, OutboxMessage.id)
                .outerjoin(OutboxMessage, OutboxMessage.event_id == Event.id)
                .where(Event.subject_id == ticket["id"])
                .order_by(Event.id)
            )
        ).all()
    assert [r.type for r in rows] == ["ticket.created", "ticket.stage_changed"]
    assert all(r.id is not None for r in rows)
