"""Signed webhooks: registered through the API, delivered to a real receiver on loopback."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook

from app.core.clock import FrozenClock
from app.core.events import record_event
from app.core.roles import Role
from app.core.settings import Settings
from app.models import MailMessage, OutboxMessage
from app.services.delivery import addresses
from app.services.delivery.dispatcher import WebhookDispatcher, webhook_client
from app.services.delivery.fanout import fan_out_all
from app.services.delivery.http1 import Timeouts, WebhookClient
from app.services.delivery.rules import LEASE
from app.services.delivery.webhook_sender import claim_due
from tests.support.events import ticket_event
from tests.support.servers import Receiver, eventually, http_receiver
from tests.support.settings import LOOPBACK, suite_settings
from tests.support.world import World


@pytest.fixture
def settings() -> Settings:
    return suite_settings(
        # The receivers listen on loopback, allowed as an operator would: the guard stays
        # strict for every other private address.
        webhook_allowed_networks=LOOPBACK,
    )


@pytest.fixture
def clock() -> FrozenClock:
    # Signatures carry the clock's time and receivers check it against theirs.
    return FrozenClock(datetime.now(UTC))


@pytest.fixture
async def http() -> AsyncIterator[WebhookClient]:
    async with webhook_client() as client:  # the worker's own client
        yield client


def dispatcher(world: World, settings: Settings, http: WebhookClient) -> WebhookDispatcher:
    return WebhookDispatcher(world.sessionmaker, world.clock, settings, http)


async def happen(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    enterprise_id: str,
    type: str = "ticket.created",
    number: str = "TT-WEBHOOK",
) -> int:
    async with sessionmaker() as session:
        event_id = await record_event(
            session,
            ticket_event(type, number),
            subject_id=uuid.uuid4(),
            at=clock.now(),
            actor="test",
            enterprise_id=uuid.UUID(enterprise_id),
        )
        await session.commit()
        await fan_out_all(session, clock)
    return event_id


async def register(world: World, headers: dict[str, str], url: str, **extra: Any) -> Any:
    response = await world.client.post(
        "/v1/webhooks", json={"url": url, "events": ["ticket.*"], **extra}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_receiver_failing_twice_gets_the_event_on_the_third_try_with_the_same_id(
    world: World, settings: Settings, http: WebhookClient
) -> None:
    acme = await world.enterprise("Acme", "EC")
    admin = await world.api_client(Role.customer_admin, acme["id"])
    async with http_receiver(Receiver(script=[500, 500])) as receiver:
        hook = await register(world, admin, receiver.url)
        assert hook["secret"].startswith("whsec_")
        shown = (await world.client.get(f"/v1/webhooks/{hook['id']}", headers=admin)).json()
        assert "secret" not in shown

        event_id = await happen(world.sessionmaker, world.clock, acme["id"], number="TT-1")
        sender = dispatcher(world, settings, http)
        assert await sender.run_until_idle() == 1
        assert await sender.run_until_idle() == 0  # the retry waits for its backoff
        world.clock.advance(timedelta(seconds=5))
        assert await sender.run_until_idle() == 1
        world.clock.advance(timedelta(seconds=30))
        assert await sender.run_until_idle() == 1
        world.clock.advance(timedelta(hours=1))
        assert await sender.run_until_idle() == 0  # delivered: nothing more

    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert len(receiver.requests) == 3
    assert len(ids) == 1
    last = receiver.requests[-1]
    payload = Webhook(hook["secret"]).verify(last.body, last.headers)
    assert payload["type"] == "ticket.created"
    assert payload["data"]["event_id"] == event_id
    assert payload["data"]["number"] == "TT-1"
    assert set(payload) == {"type", "timestamp", "data"}

    log = (await world.client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=admin)).json()
    assert [a["status_code"] for a in log["items"]] == [500, 500, 200]
    assert all(a["event_id"] == event_id for a in log["items"])
    assert log["items"][0]["error"] == "answered 500"
    assert log["items"][0]["response_excerpt"] == "answer 500"


async def test_events_reach_an_endpoint_in_the_order_they_happened(
    world: World, settings: Settings, http: WebhookClient
) -> None:
    acme = await world.enterprise("Acme", "EC")
    admin = await world.api_client(Role.customer_admin, acme["id"])
    async with http_receiver(Receiver(script=[503])) as receiver:
        await register(world, admin, receiver.url)
        first = await happen(world.sessionmaker, world.clock, acme["id"], "ticket.created")
        second = await happen(world.sessionmaker, world.clock, acme["id"], "ticket.updated")
        sender = dispatcher(world, settings, http)
        await sender.run_until_idle()
        # The first failed; the second waits behind it rather than overtaking.
        assert [r.json()["data"]["event_id"] for r in receiver.requests] == [first]
        world.clock.advance(timedelta(seconds=5))
        await sender.run_until_idle()
    assert [r.json()["data"]["event_id"] for r in receiver.requests] == [first, first, second]


async def test_a_slow_endpoint_does_not_hold_back_another(
    world: World, settings: Settings, http: WebhookClient
) -> None:
    acme = await world.enterprise("Acme", "EC")
    admin = await world.api_client(Role.customer_admin, acme["id"])
    async with (
        http_receiver(Receiver()) as slow,
        http_receiver(Receiver()) as fast,
    ):
        slow.hold = asyncio.Event()
        await register(world, admin, slow.url)
        await register(world, admin, fast.url)
        await happen(world.sessionmaker, world.clock, acme["id"])
        sender = dispatcher(world, settings, http)
        assert await sender.claim_and_start() == 2
        await eventually(lambda: len(fast.requests) == 1 and len(slow.requests) == 1)
        await eventually(lambda: len(sender.in_flight) == 1)  # only the slow one still waits
        slow.hold.set()
        await eventually(lambda: not sender.in_flight)


async def test_private_and_non_http_urls_are_refused_unless_allowed(world: World) -> None:
    acme = await world.enterprise("Acme", "EC")
    admin = await world.api_client(Role.customer_admin, acme["id"])
    strict = Settings(env="test", database_url="postgresql+asyncpg://unused/unused")
    world.client._transport.app.state.settings = strict  # type: ignore[attr-defined]
    for url in (
        "ftp://example.com/hook",
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest",
        "http://10.1.2.3/hook",
        "http://[::1]/hook",
        "http://localhost/hook",
    ):
        response = await world.client.post(
            "/v1/webhooks", json={"url": url, "events": ["ticket.*"]}, headers=admin
        )
        assert response.status_code == 422, (url, response.text)
        assert response.json()["errors"][0]["field"] == "url"
    listed = (await world.client.get("/v1/webhooks", headers=admin)).json()
    assert listed["items"] == []
    bad_pattern = await world.client.post(
        "/v1/webhooks", json={"url": "https://example.com", "events": ["tickt.*"]}, headers=admin
    )
    assert bad_pattern.status_code == 422


def as_deployed(world: World) -> Settings:
    """Put the API's production settings back: private addresses are not allowed (the default)."""
    deployed = Settings(env="test", database_url="postgresql+asyncpg://unused/unused")
    assert not deployed.webhook_allow_private
    world.client._transport.app.state.settings = deployed  # type: ignore[attr-defined]
    return deployed


async def post_hook(world: World, headers: dict[str, str], url: str) -> httpx.Response:
    return await world.client.post(
        "/v1/webhooks", json={"url": url, "events": ["ticket.*"]}, headers=headers
    )


async def test_the_guard_refuses_private_ipv4_inside_ipv6_and_does_not_say_where_a_name_points(
    world: World,
) -> None:
    as_deployed(world)
    acme = await world.enterprise("Acme", "EC")
    admin = await world.api_client(Role.customer_admin, acme["id"])
    for url in (
        "http://[2002:a00:1::]/hook",  # 6to4 around 10.0.0.1
        "http://[2002:7f00:1::]/hook",  # 6to4 around 127.0.0.1
        "http://[64:ff9b::a00:1]/hook",  # NAT64 around 10.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 around 169.254.169.254
        "http://[::ffff:10.0.0.1]/hook",  # IPv4-mapped
        "http://[::10.0.0.1]/hook",  # IPv4-compatible
        "http://localhost/hook",
        "http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/hook",  # fullwidth
    ):
        response = await post_hook(world, admin, url)
        assert response.status_code == 422, (url, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        error = response.json()["errors"][0]
        assert error["field"] == "url"
        assert "not allowed" in error["message"], (url, error)
        for revealing in ("127.0.0.1", "resolves", "private", "loopback"):
            assert revealing not in response.text, (url, response.text)
    listed = (await world.client.get("/v1/webhooks", headers=admin)).json()
    assert listed["items"] == []


async def test_malformed_host_names_are_422_and_valid_international_ones_are_kept(
    world: World,
) -> None:
    acme = await world.enterprise("Acme", "EC")
    admin = await world.api_client(Role.customer_admin, acme["id"])
    malformed = (
        "http://a..com/h",
        "http://.a.com/h",
        "http://-a.com/h",
        "http://" + "a" * 64 + ".com/h",
        "http://xn--a.com/h",  # not a valid A-label
        "http://a\u200d.com/h",  # a joiner where IDNA 2008 forbids it
        "http://a_b\u00e9.com/h",
    )
    allowing = Settings(
        env="test", database_url="postgresql+asyncpg://unused/unused", webhook_allow_private=True
    )
    for settings in (as_deployed(world), allowing):
        world.client._transport.app.state.settings = settings  # type: ignore[attr-defined]
        for url in malformed:
            response = await post_hook(world, admin, url)
            assert response.status_code == 422, (url, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["errors"][0]["field"] == "url"
    assert (await world.client.get("/v1/webhooks", headers=admin)).json()["items"] == []
    # A valid internationalised name is kept as given (nothing resolves here without DNS,
    # so the guard is relaxed for this one: the name's form is what is checked).
    kept = await post_hook(world, admin, "https://b\u00fccher.example/hook")
    assert kept.status_code == 201, kept.text
    assert kept.json()["url"] == "https://b\u00fccher.example/hook"


async def test_a_private_address_is_refused_at_delivery_too(
    world: World, settings: Settings, http: WebhookClient
) -> None:
    acme = await world.enterprise("Acme", "EC")
    admin = await world.api_client(Role.customer_admin, acme["id"])
    async with http_receiver() as receiver:
        hook = await register(world, admin, receiver.url)
        await happen(world.sessionmaker, world.clock, acme["id"])
        strict = Settings(env="test", database_url="postgresql+asyncpg://unused/unused")
        await WebhookDispatcher(world.sessionmaker, world.clock, strict, http).run_until_idle()
    assert receiver.requests == []
    log = (await world.client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=admin)).json()
    assert log["items"][0]["error"] == "refused: host 127.0.0.1 is not allowed"


async def test_a_rotated_secret_signs_beside_the_old_one_during_the_overlap(
    world: World, settings: Settings, http: WebhookClient
) -> None:
    acme = await world.enterprise("Acme", "EC")
    admin = await world.api_client(Role.customer_admin, acme["id"])
    async with http_receiver() as receiver:
        hook = await register(world, admin, receiver.url)
        rotated = await world.client.post(
            f"/v1/webhooks/{hook['id']}/rotate-secret",
            json={"overlap_seconds": 3600},
            headers=admin,
        )
        assert rotated.status_code == 200
        new_secret = rotated.json()["secret"]
        assert new_secret != hook["secret"]
        await happen(world.sessionmaker, world.clock, acme["id"])
        await dispatcher(world, settings, http).run_until_idle()
        world.clock.advance(timedelta(hours=2))
        await happen(world.sessionmaker, world.clock, acme["id"])
        await dispatcher(world, settings, http).run_until_idle()
    during, after = receiver.requests
    Webhook(hook["secret"]).verify(during.body, during.headers)
    Webhook(new_secret).verify(during.body, during.headers)
    # After the overlap only the new secret signs (checked by recomputing: the
    # clock was moved two hours on, past what `verify` accepts as fresh).
    signed_at = datetime.fromtimestamp(int(after.headers["webhook-timestamp"]), UTC)
    expected = Webhook(new_secret).sign(after.headers["webhook-id"], signed_at, after.body.decode())
    assert after.headers["webhook-signature"] == expected


async def test_replay_sends_a_delivery_again_with_its_webhook_id(
    world: World, settings: Settings, http: WebhookClient
) -> None:
    acme = await world.enterprise("Acme", "EC")
    admin = await world.api_client(Role.customer_admin, acme["id"])
    async with http_receiver() as receiver:
        hook = await register(world, admin, receiver.url)
        await happen(world.sessionmaker, world.clock, acme["id"])
        await dispatcher(world, settings, http).run_until_idle()
        log = await world.client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=admin)
        attempt = log.json()["items"][0]
        replay = await world.client.post(
            f"/v1/webhooks/{hook['id']}/deliveries/{attempt['delivery_id']}/replay",
            headers=admin,
        )
        assert replay.status_code == 202
        await dispatcher(world, settings, http).run_until_idle()
    assert len(receiver.requests) == 2
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]
    other = await world.enterprise("Other", "PE")
    stranger = await world.api_client(Role.customer_admin, other["id"])
    assert (
        await world.client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=stranger)
    ).status_code == 404


async def test_an_endpoint_failing_for_days_is_disabled_and_its_owner_mailed(
    world: World, settings: Settings, http: WebhookClient
) -> None:
    acme = await world.enterprise("Acme", "EC")
    admin = await world.api_client(Role.customer_admin, acme["id"])
    async with http_receiver(Receiver(script=[500] * 100)) as receiver:
        hook = await register(world, admin, receiver.url, owner_email="noc@acme.example")
        sender = dispatcher(world, settings, http)
        for _day in range(4):
            await happen(world.sessionmaker, world.clock, acme["id"])
            for _ in range(12):
                await sender.run_until_idle()
                world.clock.advance(timedelta(hours=2))
            world.clock.advance(timedelta(hours=1))
    read = (await world.client.get(f"/v1/webhooks/{hook['id']}", headers=admin)).json()
    assert read["status"] == "disabled"
    assert read["disabled_reason"].startswith("every delivery failed since")
    async with world.sessionmaker() as session:
        mails = (
            (
                await session.execute(
                    select(MailMessage).where(MailMessage.recipient == "noc@acme.example")
                )
            )
            .scalars()
            .all()
        )
    assert len(mails) == 1
    assert hook["id"] in mails[0].body
    before = len(receiver.requests)
    await happen(world.sessionmaker, world.clock, acme["id"])
    await sender.run_until_idle()
    assert len(receiver.requests) == before  # a disabled endpoint is not called

    enabled = await world.client.patch(
        f"/v1/webhooks/{hook['id']}", json={"status": "active"}, headers=admin
    )
    assert enabled.status_code == 200
    assert enabled.json()["failing_since"] is None


async def test_a_delivery_claimed_by_a_worker_that_died_is_sent_when_its_lease_ends(
    world: World, settings: Settings, http: WebhookClient
) -> None:
    acme = await world.enterprise("Acme", "EC")
    admin = await world.api_client(Role.customer_admin, acme["id"])
    async with http_receiver() as receiver:
        await register(world, admin, receiver.url)
        await happen(world.sessionmaker, world.clock, acme["id"])
        async with world.sessionmaker() as session:
            (dead,) = await claim_due(session, world.clock.now(), 10)  # and then it dies
        sender = dispatcher(world, settings, http)
        assert await sender.run_until_idle() == 0  # still leased to the dead worker
        world.clock.advance(LEASE)
        assert await sender.run_until_idle() == 1
    (request,) = receiver.requests
    assert request.headers["webhook-id"] == dead.message_id


async def test_a_run_is_cut_only_by_its_own_tenants_events_still_to_fan_out(
    world: World, settings: Settings
) -> None:
    acme = await world.enterprise("Acme", "EC")
    other = await world.enterprise("Other", "PE")
    for tenant in (acme, other):
        admin = await world.api_client(Role.customer_admin, tenant["id"])
        await register(world, admin, "http://127.0.0.1:9/hook")
    first = await happen(world.sessionmaker, world.clock, acme["id"])
    # Another tenant's event, numbered between Acme's, that some worker is still fanning out.
    theirs = await happen(world.sessionmaker, world.clock, other["id"])
    later = [await happen(world.sessionmaker, world.clock, acme["id"]) for _ in range(2)]
    async with world.sessionmaker() as session:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.event_id == theirs).values(processed_at=None)
        )
        await session.commit()
        claimed = await claim_due(session, world.clock.now(), 10, run=20)
    # Acme's queue waits for none of that tenant's events: its whole run goes at once.
    acme_id = uuid.UUID(acme["id"])
    assert [c.event_id for c in claimed if c.enterprise_id == acme_id] == [first, *later]


async def test_fan_out_writes_each_event_once_even_when_run_again(
    world: World, settings: Settings, http: WebhookClient
) -> None:
    acme = await world.enterprise("Acme", "EC")
    admin = await world.api_client(Role.customer_admin, acme["id"])
    async with http_receiver() as receiver:
        await register(world, admin, receiver.url)
        await happen(world.sessionmaker, world.clock, acme["id"])
        async with world.sessionmaker() as session:
            assert await fan_out_all(session, world.clock) == 0  # already processed
        await dispatcher(world, settings, http).run_until_idle()
    assert len(receiver.requests) == 1


async def test_delivery_connects_to_the_address_it_checked_not_a_fresh_lookup(
    world: World, settings: Settings, http: WebhookClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The name resolves (for the check) to the receiver's address, which the operator
    # allowed; the HTTP client could not resolve it at all, so a request arriving proves
    # pinning. Only DNS (outside this machine) is stood in for; the guard is the real one.
    acme = await world.enterprise("Acme", "EC")
    admin = await world.api_client(Role.customer_admin, acme["id"])

    async def resolve(host: str, port: int) -> set[str]:
        assert host == "noc.rebind.invalid"
        return {"127.0.0.1"}

    monkeypatch.setattr(addresses, "resolve", resolve)
    async with http_receiver() as receiver:
        url = f"http://noc.rebind.invalid:{receiver.port}/hook"
        await register(world, admin, url)
        await happen(world.sessionmaker, world.clock, acme["id"])
        await dispatcher(world, settings, http).run_until_idle()
    (request,) = receiver.requests
    assert request.headers["host"] == f"noc.rebind.invalid:{receiver.port}"


async def test_webhooks_are_changed_with_if_match_and_deleted_by_their_enterprise(
    world: World,
) -> None:
    acme = await world.enterprise("Acme", "EC")
    admin = await world.api_client(Role.customer_admin, acme["id"])
    user = await world.api_client(Role.customer_user, acme["id"])
    refused = await world.client.post(
        "/v1/webhooks", json={"url": "https://noc.example.com", "events": ["*"]}, headers=user
    )
    assert refused.status_code == 403
    hook = await register(world, admin, "http://127.0.0.1:9/hook", description="NOC wall")
    read = await world.client.get(f"/v1/webhooks/{hook['id']}", headers=user)
    etag = read.headers["ETag"]
    changed = await world.client.patch(
        f"/v1/webhooks/{hook['id']}",
        json={"events": ["ticket.*", "maintenance.*"]},
        headers={**admin, "If-Match": etag},
    )
    assert changed.status_code == 200
    assert changed.json()["events"] == ["ticket.*", "maintenance.*"]
    stale = await world.client.patch(
        f"/v1/webhooks/{hook['id']}",
        json={"description": "late"},
        headers={**admin, "If-Match": etag},
    )
    assert stale.status_code == 412
    bad_url = await world.client.patch(
        f"/v1/webhooks/{hook['id']}", json={"url": "gopher://x"}, headers=admin
    )
    assert bad_url.status_code == 422
    other = await world.enterprise("Other", "PE")
    stranger = await world.api_client(Role.customer_admin, other["id"])
    assert (
        await world.client.delete(f"/v1/webhooks/{hook['id']}", headers=stranger)
    ).status_code == 404
    assert (
        await world.client.delete(f"/v1/webhooks/{hook['id']}", headers=admin)
    ).status_code == 204
    assert (await world.client.get(f"/v1/webhooks/{hook['id']}", headers=admin)).status_code == 404
    assert (await world.client.get("/v1/webhooks", headers=admin)).json()["items"] == []


async def test_a_receiver_that_never_answers_times_out_and_gets_the_event_later(
    world: World, settings: Settings, http: WebhookClient
) -> None:
    acme = await world.enterprise("Acme", "EC")
    admin = await world.api_client(Role.customer_admin, acme["id"])
    async with http_receiver() as receiver:
        receiver.hold = asyncio.Event()  # it reads the request and never answers
        hook = await register(world, admin, receiver.url)
        await happen(world.sessionmaker, world.clock, acme["id"])
        impatient = WebhookDispatcher(
            world.sessionmaker,
            world.clock,
            settings,
            http,
            timeouts=Timeouts(connect=0.3, answer=0.3),
        )
        assert await impatient.run_until_idle() == 1
        receiver.hold.set()  # it recovers
        receiver.hold = None
        world.clock.advance(timedelta(seconds=5))
        assert await impatient.run_until_idle() == 1
    log = (await world.client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=admin)).json()
    assert [(a["status_code"], a["error"]) for a in log["items"]] == [
        (None, "timed out"),
        (200, None),
    ]
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == 2
    assert len(set(ids)) == 1
