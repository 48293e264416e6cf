"""The hot ticket reads answer the JSON PostgreSQL writes (`tickets.ticket_json`): the same
document, field for field and in the same order, as `TicketRead` written by pydantic."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.roles import Role
from app.core.tenancy import Caller
from app.services.tickets.reads import fetch_ticket
from tests.support.tickets import make_desk
from tests.support.world import World

STAFF = Caller(uuid.uuid4(), "user", Role.tsc_engineer, "staff", frozenset())


async def as_pydantic_writes_it(session: AsyncSession, ticket_id: str) -> Any:
    ticket = await fetch_ticket(session, STAFF, uuid.UUID(ticket_id))
    return json.loads(ticket.model_dump_json())


def same_document(ours: Any, theirs: Any) -> None:
    assert ours == theirs
    assert list(ours) == list(theirs)
    for mine, its in zip(ours["sla"], theirs["sla"], strict=True):
        assert list(mine) == list(its)
        assert type(mine["paused_seconds"]) is type(its["paused_seconds"]) is float


async def test_the_read_answers_what_ticket_read_would_say(
    world: World, session: AsyncSession
) -> None:
    desk = await make_desk(world)
    site = {"address": "Av. 6 de Diciembre", "city": "Quito", "country": "EC"}
    ticket = await desk.open(site=site)
    await desk.move(ticket["id"], "registration")
    await desk.move(ticket["id"], "diagnosis")
    held = await world.client.post(
        f"/v1/tickets/{ticket['id']}/hold", json={"reason": "no access"}, headers=desk.staff
    )
    assert held.status_code == 200, held.text
    # Instants with and without a fraction, targets no policy would give (a fraction of a
    # second, a day and more), a pause of a fraction, a warning and a breach.
    await session.execute(
        text(
            "UPDATE sla_clocks SET target_seconds = CASE stage WHEN 'reception' THEN 1.5 "
            "WHEN 'registration' THEN 93784.000123 ELSE 0.000001 END, "
            "started_at = started_at + interval '120 microseconds', "
            "paused_seconds = CASE stage WHEN 'diagnosis' THEN 12.345678 ELSE 3 END, "
            "warned_at = started_at, breached_at = started_at + interval '1.1 seconds' "
            "WHERE ticket_id = :id"
        ),
        {"id": ticket["id"]},
    )
    await session.execute(
        text("UPDATE tickets SET updated_at = updated_at + interval '0.5 seconds' WHERE id = :id"),
        {"id": ticket["id"]},
    )
    theirs = await as_pydantic_writes_it(session, ticket["id"])
    assert [c["target"] for c in theirs["sla"]] == ["PT1.5S", "P1DT2H3M4.00012S", "PT1e-06S"]
    for headers in (desk.customer, desk.staff):
        read = await world.client.get(f"/v1/tickets/{ticket['id']}", headers=headers)
        assert read.status_code == 200
        assert read.headers["content-type"] == "application/json"
        assert read.headers["ETag"] == f'W/"{theirs["version"]}"'
        same_document(read.json(), theirs)
        page = await world.client.get("/v1/tickets?limit=100", headers=headers)
        assert page.status_code == 200
        (item,) = [i for i in page.json()["items"] if i["id"] == ticket["id"]]
        same_document(item, theirs)


async def test_text_the_reporter_wrote_cannot_pass_for_a_target(world: World) -> None:
    desk = await make_desk(world)
    tricky = 'x\x01300\x01 "target":\u0001 \\u0001 ' + "ü"
    ticket = await desk.open(summary=tricky, description=tricky, contact={"name": tricky})
    read = await world.client.get(f"/v1/tickets/{ticket['id']}", headers=desk.customer)
    assert read.status_code == 200
    assert read.json()["summary"] == tricky
    assert read.json()["contact"]["name"] == tricky
    assert read.json() == ticket
