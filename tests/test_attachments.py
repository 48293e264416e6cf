"""Attachments on tickets and billing requests, through the API and through the use case the
mail channel calls inside its own transaction."""

from __future__ import annotations

import hashlib
import os
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from app.core.errors import NotFound, PayloadTooLarge
from app.core.roles import Role
from app.models import Attachment, Event
from app.services.attachments.rules import Limits
from app.services.attachments.schemas import AttachmentVisibility
from app.services.attachments.service import OwnerRef, add_attachment
from tests.support.tickets import Desk, make_desk
from tests.support.world import World

# Every byte value, and bytes that would trip a text pipeline: NUL, CR LF, an escaped NUL as
# JSON spells it, and the form's own boundary-looking line.
BINARY = bytes(range(256)) + b"\x00\r\n\\u0000\r\n--boundary\r\n" + os.urandom(70_000)


def upload(
    data: bytes = BINARY,
    filename: str = "trace.pcap",
    content_type: str = "application/vnd.tcpdump.pcap",
    visibility: str | None = None,
) -> dict[str, Any]:
    """httpx arguments for a multipart upload."""
    fields = {"visibility": visibility} if visibility is not None else {}
    return {"files": {"file": (filename, data, content_type)}, "data": fields}


async def attach(
    desk: Desk, ticket_id: str, headers: dict[str, str] | None = None, **kw: Any
) -> dict[str, Any]:
    response = await desk.world.client.post(
        f"/v1/tickets/{ticket_id}/attachments", headers=headers or desk.customer, **upload(**kw)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_customer_uploads_a_binary_file_and_downloads_it_byte_for_byte(
    world: World,
) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    added = await attach(desk, ticket["id"])
    assert added["filename"] == "trace.pcap"
    assert added["content_type"] == "application/vnd.tcpdump.pcap"
    assert added["size"] == len(BINARY)
    assert added["sha256"] == hashlib.sha256(BINARY).hexdigest()
    assert added["visibility"] == "public"
    assert added["href"] == f"/v1/tickets/{ticket['id']}/attachments/{added['id']}"

    got = await world.client.get(added["href"], headers=desk.customer)
    assert got.status_code == 200
    assert got.content == BINARY
    assert got.headers["content-type"] == "application/vnd.tcpdump.pcap"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"trace.pcap\"; filename*=UTF-8''trace.pcap"
    )

    listed = await world.client.get(f"/v1/tickets/{ticket['id']}/attachments", headers=desk.staff)
    assert listed.status_code == 200
    assert listed.json() == {"items": [added], "next_cursor": None}


async def test_the_mail_channel_attaches_inside_its_own_transaction_and_commits_itself(
    world: World,
) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    limits = Limits(per_file=1024 * 1024, per_owner=1024 * 1024)
    async with world.sessionmaker() as session:
        added = await add_attachment(
            session,
            owner=OwnerRef.ticket(uuid.UUID(ticket["id"])),
            enterprise_id=uuid.UUID(desk.enterprise["id"]),
            filename="photo of the CPE.jpg",
            content_type="image/jpeg",
            data=b"\xff\xd8\xff\xe0 not really a jpeg",
            visibility=AttachmentVisibility.public,
            author="mail:noc@example.com",
            at=world.clock.now(),
            limits=limits,
        )
        # Nothing is committed yet: a rollback leaves no file and no event behind.
        await session.rollback()
    async with world.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Attachment)) == 0
        assert (
            await session.scalar(
                select(func.count()).where(Event.type == "ticket.attachment_added")
            )
        ) == 0
        added = await add_attachment(
            session,
            owner=OwnerRef.ticket(uuid.UUID(ticket["id"])),
            enterprise_id=uuid.UUID(desk.enterprise["id"]),
            filename="photo of the CPE.jpg",
            content_type="image/jpeg",
            data=b"\xff\xd8\xff\xe0 not really a jpeg",
            visibility=AttachmentVisibility.public,
            author="mail:noc@example.com",
            at=world.clock.now(),
            limits=limits,
        )
        await session.commit()
    got = await world.client.get(added.href, headers=desk.customer)
    assert got.status_code == 200
    assert got.content == b"\xff\xd8\xff\xe0 not really a jpeg"
    assert got.headers["content-disposition"].startswith("inline; ")
    history = await desk.events(ticket["id"], desk.customer)
    (event,) = [e for e in history if e["type"] == "ticket.attachment_added"]
    assert event["actor"] == "mail:noc@example.com"
    assert event["data"]["attachment_id"] == str(added.id)
    assert event["data"]["href"] == added.href


async def test_the_mail_channel_cannot_attach_to_another_enterprises_ticket_or_overflow_it(
    world: World,
) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    other = await world.enterprise("Other Bank", "PE")
    arguments: dict[str, Any] = {
        "owner": OwnerRef.ticket(uuid.UUID(ticket["id"])),
        "filename": "a.txt",
        "content_type": "text/plain",
        "visibility": AttachmentVisibility.public,
        "author": "mail:x@example.com",
        "at": world.clock.now(),
        "limits": Limits(per_file=10, per_owner=15),
    }
    async with world.sessionmaker() as session:
        with pytest.raises(NotFound):
            await add_attachment(
                session, enterprise_id=uuid.UUID(other["id"]), data=b"hello", **arguments
            )
        await session.rollback()
        mine = uuid.UUID(desk.enterprise["id"])
        with pytest.raises(PayloadTooLarge, match="at most 10 bytes"):
            await add_attachment(session, enterprise_id=mine, data=b"x" * 11, **arguments)
        await session.rollback()
        await add_attachment(session, enterprise_id=mine, data=b"x" * 10, **arguments)
        with pytest.raises(PayloadTooLarge, match="at most 15 bytes"):
            await add_attachment(session, enterprise_id=mine, data=b"x" * 6, **arguments)


async def test_billing_requests_take_attachments_too(world: World) -> None:
    enterprise = await world.enterprise("Banco Andino", "EC")
    customer = await world.api_client(Role.customer_user, enterprise["id"])
    filed = await world.client.post(
        "/v1/billing-requests",
        json={"type": "dispute", "subject": "Invoice 2026-10 charged twice"},
        headers=customer,
    )
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["id"]
    added = await world.client.post(
        f"/v1/billing-requests/{request_id}/attachments",
        headers=customer,
        **upload(b"%PDF-1.7 invoice", "invoice-2026-10.pdf", "application/pdf"),
    )
    assert added.status_code == 201, added.text
    href = added.json()["href"]
    assert href.startswith(f"/v1/billing-requests/{request_id}/attachments/")
    got = await world.client.get(href, headers=customer)
    assert got.content == b"%PDF-1.7 invoice"
    assert got.headers["content-type"] == "application/pdf"
    history = await world.client.get(f"/v1/billing-requests/{request_id}/events", headers=customer)
    types = [e["type"] for e in history.json()["items"]]
    assert types == ["billing.received", "billing.attachment_added"]
