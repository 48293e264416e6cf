"""Each mail succeeds or fails alone, whatever a real SMTP server (aiosmtpd) answers for one
recipient: 550 or 451 to RCPT, 552 to DATA, or the line dropped. Other recipients and other
tenants' mails still go, and a slow batch never has a message sent twice."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from app.core.clock import FrozenClock
from app.core.database import create_engine, create_sessionmaker
from app.core.events import record_event
from app.core.settings import Settings
from app.models import MailMessage
from app.services.delivery.mail_sender import send_due_mail
from tests.support.events import maintenance_notice
from tests.support.servers import Mailbox, eventually, smtp_server
from tests.support.world import World
from tests.test_mail_notifications import add_contact, deliver_mail

# What the server answers for each troublesome mailbox, and where.
REFUSALS = {
    "gone": "550 5.1.1 no such mailbox",  # RCPT, for good
    "busy": "451 4.3.0 try again later",  # RCPT, for now
    "full": "552 5.2.2 mailbox full",  # DATA, for good
}


class PickyMailbox(Mailbox):
    """Refuses or hangs up on the mailboxes named in REFUSALS and `drop`, while `picky`."""

    picky = True

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        local = address.split("@")[0]
        if self.picky and local in ("gone", "busy"):
            return REFUSALS[local]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        local = envelope.rcpt_tos[0].split("@")[0]
        if self.picky and local == "full":
            return REFUSALS["full"]
        if self.picky and local == "drop":
            server.transport.close()  # the line drops mid-message
            return "421 4.4.2 gone"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def mailbox() -> Iterator[PickyMailbox]:
    with smtp_server(mailbox=PickyMailbox()) as mailbox:
        assert isinstance(mailbox, PickyMailbox)
        yield mailbox


@pytest.fixture
def settings(mailbox: Mailbox) -> Settings:
    return Settings(
        env="test",
        database_url="postgresql+asyncpg://unused/unused",
        public_url="https://portal.test",
        smtp_url=mailbox.url,
    )


async def mails_to(world: World, recipient: str) -> list[MailMessage]:
    async with world.sessionmaker() as session:
        rows = await session.execute(select(MailMessage).where(MailMessage.recipient == recipient))
        return list(rows.scalars())


async def test_each_refused_or_dropped_recipient_fails_alone(
    world: World, settings: Settings, mailbox: PickyMailbox
) -> None:
    troubled = {"gone": "Gone SA", "busy": "Busy SA", "full": "Full SA", "drop": "Drop SA"}
    for local, name in troubled.items():
        tenant = await world.enterprise(name, "EC")
        domain = f"{local}.example"
        # The troublesome mailbox first: what comes after it in the batch must still go.
        await add_contact(world, tenant["id"], f"{local}@{domain}", "es", ["maintenance.*"])
        await add_contact(world, tenant["id"], f"noc@{domain}", "es", ["maintenance.*"])
        async with world.sessionmaker() as session:
            await record_event(
                session,
                maintenance_notice("GCR-2026-000077", world.clock.now() + timedelta(hours=1)),
                subject_id=uuid.uuid4(),
                at=world.clock.now(),
                actor="test",
                enterprise_id=uuid.UUID(tenant["id"]),
            )
            await session.commit()
    await deliver_mail(world, settings)

    for local in troubled:
        assert len(mailbox.to(f"noc@{local}.example")) == 1, local
        assert mailbox.to(f"{local}@{local}.example") == []
    # Refused for good: failed, with the server's words; refused for now or cut off: retried.
    expected = {"gone": "failed", "full": "failed", "busy": "pending", "drop": "pending"}
    for local, status in expected.items():
        (mail,) = await mails_to(world, f"{local}@{local}.example")
        assert mail.status == status, (local, mail.status, mail.last_error)
        assert mail.last_error
    (busy,) = await mails_to(world, "busy@busy.example")
    assert "451" in (busy.last_error or "")

    mailbox.picky = False  # the server is back to normal
    world.clock.advance(timedelta(seconds=10))
    await deliver_mail(world, settings)
    for local in ("busy", "drop"):
        assert len(mailbox.to(f"{local}@{local}.example")) == 1, local
    for local in ("gone", "full"):
        assert mailbox.to(f"{local}@{local}.example") == []
    for local in troubled:
        assert len(mailbox.to(f"noc@{local}.example")) == 1, local  # nothing sent twice


class SlowMailbox(Mailbox):
    """Takes its time over each message (a quarter second, on the wall clock) while the
    injected clock moves on 40 seconds: a batch of five lasts 200 s, past any one lease."""

    def __init__(self, clock: FrozenClock) -> None:
        super().__init__()
        self.clock = clock
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.25)
        with self.lock:
            self.clock.advance(timedelta(seconds=40))
        return await super().handle_DATA(server, session, envelope)


async def test_a_slow_batch_keeps_its_lease_so_no_other_worker_sends_a_mail_twice(
    fresh_database: str,
) -> None:
    clock = FrozenClock(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    engine = create_engine(fresh_database, pool_size=3)
    maker = create_sessionmaker(engine)
    slow = SlowMailbox(clock)
    try:
        with smtp_server(mailbox=slow) as mailbox:
            settings = Settings(env="test", database_url=fresh_database, smtp_url=mailbox.url)
            recipients = [f"noc{n}@slow.example" for n in range(5)]
            async with maker() as session:
                await session.execute(
                    insert(MailMessage),
                    [
                        {
                            "id": uuid.uuid4(),
                            "recipient": r,
                            "subject": "Aviso",
                            "body": "Mantenimiento",
                            "language": "es",
                            "next_attempt_at": clock.now(),
                            "created_at": clock.now(),
                        }
                        for r in recipients
                    ],
                )
                await session.commit()

            async def first_worker() -> int:
                async with maker() as session:
                    return await send_due_mail(session, clock, settings)

            async def second_worker(until: asyncio.Task[int]) -> int:
                # Polls for due mail the whole time the first worker's batch goes on.
                await eventually(lambda: len(mailbox.mails) >= 1)  # the first has the batch
                sent = 0
                async with maker() as session:
                    while not until.done():
                        sent += await send_due_mail(session, clock, settings)
                        await asyncio.sleep(0.02)
                return sent

            first = asyncio.create_task(first_worker())
            taken_over = await second_worker(first)
            assert await first == 5
            assert taken_over == 0
            assert sorted(m.recipient[0] for m in mailbox.mails) == recipients
    finally:
        await engine.dispose()
