"""Delivery in real worker processes: woken by NOTIFY, nothing lost, nothing doubled, in order."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook

from app.core.clock import SystemClock
from app.core.database import create_engine, create_sessionmaker
from app.core.events import record_event
from app.core.roles import Role
from app.core.settings import Settings
from app.core.tenancy import Caller
from app.models import MailMessage, NotificationContact
from app.services.delivery.schemas import WebhookCreate
from app.services.delivery.webhooks import checked_destination, create_webhook
from app.services.enterprises.schemas import EnterpriseCreate
from app.services.enterprises.service import create_enterprise
from tests.support.events import maintenance_notice
from tests.support.servers import http_receiver, smtp_server
from tests.support.workers import poll, running_workers

pytestmark = pytest.mark.processes

CLOCK = SystemClock()
ADMIN = Caller(
    id=uuid.uuid4(),
    kind="api_client",
    role=Role.provider_admin,
    name="test",
    enterprise_ids=frozenset(),
)
EVENTS = 40


@pytest.fixture
async def maker(fresh_database: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(fresh_database, pool_size=4)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def test_two_workers_deliver_every_event_once_in_order_and_mail_it(
    fresh_database: str,
    maker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    allow = Settings(webhook_allow_private=True, database_url=fresh_database)
    with smtp_server() as mailbox:
        async with http_receiver() as receiver:
            monkeypatch.setenv("CARRIERDESK_WEBHOOK_ALLOW_PRIVATE", "true")
            monkeypatch.setenv("CARRIERDESK_SMTP_URL", mailbox.url)
            async with maker() as session:
                enterprise = await create_enterprise(
                    session, CLOCK, None, EnterpriseCreate(name="Acme", country="EC")
                )
            async with maker() as session:
                hook = await create_webhook(
                    session,
                    ADMIN,
                    CLOCK,
                    None,
                    WebhookCreate(
                        url=receiver.url, events=["maintenance.*"], enterprise_id=enterprise.id
                    ),
                    await checked_destination(receiver.url, allow),
                )
            async with maker() as session:
                session.add(
                    NotificationContact(
                        id=uuid.uuid4(),
                        enterprise_id=enterprise.id,
                        name="NOC",
                        email="noc@acme.example",
                        language="es",
                        events=["maintenance.*"],
                        created_at=CLOCK.now(),
                        updated_at=CLOCK.now(),
                        version=1,
                    )
                )
                await session.commit()
            async with running_workers(fresh_database, maker, 2):
                ids = []
                for n in range(EVENTS):
                    async with maker() as session:
                        ids.append(
                            await record_event(
                                session,
                                maintenance_notice(f"GCR-{n:04d}", CLOCK.now()),
                                subject_id=uuid.uuid4(),
                                at=CLOCK.now(),
                                actor="test",
                                enterprise_id=enterprise.id,
                            )
                        )
                        await session.commit()

                async def delivered() -> bool:
                    return len(receiver.requests) >= EVENTS and len(mailbox.mails) >= EVENTS

                await poll(delivered, within=60)

                async def all_sent() -> bool:
                    async with maker() as session:
                        statuses = (await session.execute(select(MailMessage.status))).scalars()
                        return set(statuses) == {"sent"}

                await poll(all_sent, within=30)

    received = [r.json()["data"]["event_id"] for r in receiver.requests]
    assert received == ids  # each once, in the order they happened
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == EVENTS
    for request in receiver.requests[:3]:
        Webhook(hook.secret).verify(request.body, request.headers)
    subjects = sorted(m.subject for m in mailbox.mails)
    assert subjects == sorted(f"[GCR-{n:04d}] Mantenimiento de emergencia" for n in range(EVENTS))
