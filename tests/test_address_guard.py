"""The address guard as an operator runs it: strict, with only the networks named in
`CARRIERDESK_WEBHOOK_ALLOWED_NETWORKS` let through (here the loopback receiver's), for
webhooks and TMF621 hubs alike, at registration and at delivery, with the worker's client."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from app.core.clock import FrozenClock
from app.core.roles import Role
from app.core.settings import Settings
from app.services.delivery.dispatcher import WebhookDispatcher, webhook_client
from app.services.delivery.http1 import WebhookClient
from app.services.delivery.rules import allowed_despite_private
from tests.support.servers import http_receiver
from tests.support.world import World
from tests.test_webhooks import happen

REFUSED = (
    "http://127.0.0.2:8080/hook",  # loopback, but not the allowed /32
    "http://10.0.0.1/hook",
    "http://192.168.1.20/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.2]/hook",
)


SONATA_HUB = "/mefApi/sonata/troubleTicket/v4/hub"


@pytest.fixture
def settings() -> Settings:
    allowed = Settings(
        env="test",
        database_url="postgresql+asyncpg://unused/unused",
        webhook_allowed_networks=["127.0.0.1/32"],
    )
    assert not allowed.webhook_allow_private  # nothing else private gets through
    return allowed


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC))  # receivers check the signature's time


@pytest.fixture
async def http() -> AsyncIterator[WebhookClient]:
    async with webhook_client() as client:
        yield client


async def test_the_allowed_network_is_reached_and_every_other_private_address_refused(
    world: World, settings: Settings, http: WebhookClient
) -> None:
    acme = await world.enterprise("Acme", "EC")
    admin = await world.api_client(Role.customer_admin, acme["id"])
    carrier = await world.api_client(Role.carrier, acme["id"])
    for url in REFUSED:
        hook = await world.client.post(
            "/v1/webhooks", json={"url": url, "events": ["ticket.*"]}, headers=admin
        )
        assert hook.status_code == 422, (url, hook.text)
        assert hook.json()["errors"][0]["field"] == "url"
        hub = await world.client.post(
            "/tmf-api/troubleTicket/v4/hub", json={"callback": url}, headers=carrier
        )
        assert hub.status_code == 400, (url, hub.text)  # TM Forum's error shape
        assert hub.json()["message"].startswith("callback:"), hub.text
        sonata = await world.client.post(SONATA_HUB, json={"callback": url}, headers=carrier)
        assert sonata.status_code == 422, (url, sonata.text)  # MEF's error shape
        assert sonata.json()[0]["propertyPath"] == "/callback", sonata.text

    async with http_receiver() as receiver, http_receiver() as listener:
        hook = await world.client.post(
            "/v1/webhooks", json={"url": receiver.url, "events": ["ticket.*"]}, headers=admin
        )
        assert hook.status_code == 201, hook.text
        hub = await world.client.post(
            "/tmf-api/troubleTicket/v4/hub", json={"callback": listener.url}, headers=carrier
        )
        assert hub.status_code == 201, hub.text
        sonata = await world.client.post(
            SONATA_HUB, json={"callback": listener.url}, headers=carrier
        )
        assert sonata.status_code == 201, sonata.text
        await happen(world.sessionmaker, world.clock, acme["id"], number="TT-GUARD")
        await WebhookDispatcher(world.sessionmaker, world.clock, settings, http).run_until_idle()
    # The strict guard checked the address at delivery, and the request went to it.
    assert [r.json()["data"]["number"] for r in receiver.requests] == ["TT-GUARD"]


def test_only_addresses_inside_an_allowed_network_pass_despite_being_private() -> None:
    allowed = [ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.20.0.0/16")]
    assert allowed_despite_private("127.0.0.1", allowed)
    assert allowed_despite_private("10.20.4.5", allowed)
    for address in ("127.0.0.2", "10.21.0.1", "::1", "::ffff:127.0.0.1", "192.168.1.1"):
        assert not allowed_despite_private(address, allowed), address
    assert not allowed_despite_private("127.0.0.1", [])
