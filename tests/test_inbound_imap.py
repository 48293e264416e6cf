"""Mail in over IMAP, against a real Dovecot: each message stored like the SMTP listener's,
then moved to the done folder; processing is the same."""

from __future__ import annotations

import asyncio
import imaplib
from collections.abc import Iterator

import pytest

from app.core.settings import Settings
from app.services.inbound_mail.imap import ImapMailbox, parse_imap_url, poll_imap_forever, poll_once
from tests.support.dovecot import Imap, dovecot_server
from tests.support.inbound import inbound_rows, message, process_all
from tests.support.servers import eventually
from tests.support.world import World
from tests.test_inbound_mail import CONTACT, REPAIR, history, mails_to, setup, tickets_of

DONE = "Carrier Desk"


@pytest.fixture
def imap() -> Iterator[Imap]:
    with dovecot_server() as server:
        yield server


def deliver(imap: Imap, raw: bytes, folder: str = "INBOX") -> None:
    """Mail arriving in the hosted mailbox (an APPEND, as the hosting server's delivery)."""
    conn = imaplib.IMAP4(imap.host, imap.port)
    conn.login(imap.user, imap.password)
    conn.append(folder, None, None, raw)
    conn.logout()


def count_in(imap: Imap, folder: str) -> int:
    conn = imaplib.IMAP4(imap.host, imap.port)
    conn.login(imap.user, imap.password)
    status, data = conn.select(f'"{folder}"', readonly=True)
    conn.logout()
    return int(data[0]) if status == "OK" else -1


async def poll(world: World, imap: Imap) -> None:
    mailbox = await asyncio.to_thread(ImapMailbox, parse_imap_url(imap.url()), DONE)
    try:
        await poll_once(mailbox, world.sessionmaker, world.clock)
    finally:
        await asyncio.to_thread(mailbox.close)
    await process_all(world.sessionmaker, world.clock)


async def test_imap_mail_becomes_tickets_and_notes_and_moves_to_the_done_folder(
    world: World, imap: Imap
) -> None:
    given = await setup(world)
    first = message(f"Ana <{CONTACT}>", REPAIR, "Enlace caído QUI-MPLS-0042", "Sin servicio")
    deliver(imap, first.as_bytes())
    deliver(imap, first.as_bytes())  # the same message twice: processed once
    deliver(imap, message("stranger@elsewhere.example", REPAIR, "Hola", "x").as_bytes())
    auto = message(
        CONTACT,
        REPAIR,
        "Out of office QUI-MPLS-0042",
        "Back on Monday",
        headers={"Auto-Submitted": "auto-replied"},
    )
    deliver(imap, auto.as_bytes())
    await poll(world, imap)

    [ticket] = await tickets_of(world, given["enterprise"]["id"])
    assert ticket["summary"] == "Enlace caído QUI-MPLS-0042"
    [ack] = await mails_to(world, CONTACT)  # the out-of-office got no answer
    assert ticket["number"] in ack.subject
    assert await mails_to(world, "stranger@elsewhere.example") == []
    statuses = sorted(r.status for r in await inbound_rows(world.sessionmaker))
    assert statuses == ["held", "processed", "unmatched"]
    assert count_in(imap, "INBOX") == 0
    assert count_in(imap, DONE) == 4

    deliver(imap, message(CONTACT, REPAIR, f"Re: [{ticket['number']}]", "Sigue igual").as_bytes())
    await poll(world, imap)
    notes = [
        e
        for e in await history(world, f"/v1/tickets/{ticket['id']}")
        if e["type"] == "ticket.note_added"
    ]
    assert len(notes) == 1
    assert "Sigue igual" in notes[0]["data"]["body"]
    assert len(await tickets_of(world, given["enterprise"]["id"])) == 1


async def test_the_imap_poller_takes_mail_that_arrives_while_it_waits(
    world: World, imap: Imap
) -> None:
    await setup(world)
    settings = Settings(
        env="test",
        database_url="postgresql+asyncpg://u/u",
        imap_url=imap.url(address=REPAIR),
        imap_poll_seconds=1,
    )
    task = asyncio.create_task(poll_imap_forever(settings, world.sessionmaker, world.clock))
    try:
        await eventually(lambda: count_in(imap, DONE) == 0, seconds=30)  # connected, folder made
        deliver(imap, message(CONTACT, REPAIR, "Caída QUI-MPLS-0042", "x").as_bytes())
        await eventually(lambda: task.done() or count_in(imap, DONE) == 1, seconds=30)
        if task.done():
            task.result()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    [row] = await inbound_rows(world.sessionmaker)
    assert row.mailbox == REPAIR
    assert row.source == "imap"
