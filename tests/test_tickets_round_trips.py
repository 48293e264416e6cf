"""The hot paths stay few round trips: intake, one ticket, a page of tickets."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from tests.support.round_trips import statements
from tests.support.tickets import make_desk
from tests.support.world import World


async def test_intake_and_reads_take_few_statements(
    world: World, connection: AsyncConnection
) -> None:
    desk = await make_desk(world)
    for caller in (desk.customer, desk.staff):  # each token's last use noted
        await world.client.get("/v1/tickets", headers=caller)
    headers = {**desk.customer, "Idempotency-Key": "round-trips-1"}
    body = {
        "service_id": desk.service["id"],
        "severity": "major",
        "summary": "Down",
        "contact": {"name": "NOC"},
        "external_id": "RT-1",
    }
    async with statements(connection) as seen:
        created = await world.client.post("/v1/tickets", json=body, headers=headers)
    assert created.status_code == 201
    # token (a test app remembers no caller: it has no listener), resolve (the kept answer of
    # the idempotency key, service, policy, tier, duplicate, number), one insert (ticket,
    # clock, event, outbox, idempotency record, NOTIFYs)
    assert len(seen) == 3, seen
    # Opened before the service is known: the enterprise's terms, in the same two statements.
    unnamed = {"severity": "major", "summary": "Down", "contact": {"name": "NOC"}}
    headers = {**desk.customer, "Idempotency-Key": "round-trips-2"}
    async with statements(connection) as seen:
        without_service = await world.client.post("/v1/tickets", json=unnamed, headers=headers)
    assert without_service.status_code == 201, without_service.text
    assert len(seen) == 3, seen
    async with statements(connection) as seen:
        read = await world.client.get(f"/v1/tickets/{created.json()['id']}", headers=desk.customer)
    assert read.status_code == 200
    assert_one_read_after_the_token(seen)
    async with statements(connection) as seen:
        page = await world.client.get("/v1/tickets?limit=1", headers=desk.customer)
    assert page.status_code == 200
    assert_one_read_after_the_token(seen)
    # The next page, by filter and time of change, for staff: one statement all the same.
    since = created.json()["created_at"]
    query = f"limit=1&status=open&severity=major&updated_since={since}"
    query += f"&enterprise_id={desk.enterprise['id']}&cursor={page.json()['next_cursor']}"
    async with statements(connection) as seen:
        following = await world.client.get(f"/v1/tickets?{query}", headers=desk.staff)
    assert following.status_code == 200, following.text
    both = {t["id"] for t in page.json()["items"] + following.json()["items"]}
    assert both == {created.json()["id"], without_service.json()["id"]}
    assert_one_read_after_the_token(seen)


def assert_one_read_after_the_token(seen: list[str]) -> None:
    """At most the bearer token's look-up, then one statement reading the tickets."""
    assert len(seen) <= 2, seen
    assert len([q for q in seen if "FROM tickets" in q]) == 1, seen


async def test_a_keyed_creation_resolves_its_bearer_token_once(
    world: World, connection: AsyncConnection
) -> None:
    # The route's policy dependency and its Idempotency-Key claim both need the caller: one
    # look-up of the token serves both (a test app remembers no caller between requests).
    desk = await make_desk(world)
    ticket = await desk.open()
    headers = {**desk.customer, "Idempotency-Key": "note-once"}
    async with statements(connection) as seen:
        note = await world.client.post(
            f"/v1/tickets/{ticket['id']}/notes", json={"body": "Still down"}, headers=headers
        )
    assert note.status_code == 201, note.text
    assert len([q for q in seen if "token_hash" in q]) == 1, seen
