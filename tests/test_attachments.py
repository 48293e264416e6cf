"""Attachments on tickets and billing requests, through the API and through the use case the
mail channel calls inside its own transaction."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import FrozenClock
from app.core.database import create_engine, create_sessionmaker
from app.core.errors import NotFound, PayloadTooLarge
from app.core.roles import Role
from app.core.settings import Settings
from app.main import create_app
from app.models import Attachment, Event
from app.services.attachments.rules import Limits
from app.services.attachments.schemas import AttachmentVisibility
from app.services.attachments.service import OwnerRef, add_attachment
from app.services.delivery.dispatcher import WebhookDispatcher, webhook_client
from app.services.delivery.fanout import fan_out_all
from tests.support.servers import http_receiver
from tests.support.settings import suite_settings
from tests.support.tickets import Desk, make_desk
from tests.support.workers import poll
from tests.support.world import World

MIB = 1024 * 1024


@pytest.fixture
def settings() -> Settings:
    # Small limits keep the uploads that cross them small; the webhook receiver is on loopback.
    return suite_settings(
        webhook_allow_private=True,
        attachment_max_bytes=1 * MIB,
        attachment_total_bytes=2 * MIB,
    )


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


def raw_form(*parts: tuple[bytes, bytes], boundary: bytes = b"b0undary") -> dict[str, Any]:
    """httpx arguments for a form written byte by byte: (part headers, part body) pairs."""
    body = b"".join(b"--" + boundary + b"\r\n" + h + b"\r\n\r\n" + d + b"\r\n" for h, d in parts)
    return {
        "content": body + b"--" + boundary + b"--\r\n",
        "headers": {"Content-Type": f"multipart/form-data; boundary={boundary.decode()}"},
    }


def file_part(filename: bytes, content_type: bytes = b"text/plain") -> bytes:
    return (
        b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
        b"Content-Type: " + content_type
    )


async def files_of(desk: Desk, ticket_id: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    listed = await desk.world.client.get(f"/v1/tickets/{ticket_id}/attachments", headers=headers)
    assert listed.status_code == 200, listed.text
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


HOSTILE_NAMES = [
    (b"../../etc/passwd", "passwd"),
    (b"C:\\Windows\\system32\\evil.dll", "evil.dll"),
    ("invoice\u202egpj.exe".encode(), "invoicegpj.exe"),
    (b"bell\x07and\ttab.txt", "belland tab.txt"),
    (b"...", "attachment"),
    ("résumé de l'incident.txt".encode(), "résumé de l'incident.txt"),
    (b"a" * 300 + b".pdf", "a" * 196 + ".pdf"),
]


async def test_a_hostile_file_name_is_kept_safe(world: World) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    for sent, kept in HOSTILE_NAMES:
        form = raw_form((file_part(sent), b"log line"))
        response = await world.client.post(
            f"/v1/tickets/{ticket['id']}/attachments",
            headers=desk.customer | form["headers"],
            content=form["content"],
        )
        assert response.status_code == 201, (sent, response.text)
        assert response.json()["filename"] == kept, sent
        got = await world.client.get(response.json()["href"], headers=desk.customer)
        assert got.content == b"log line"
        disposition = got.headers["content-disposition"]
        assert "\r" not in disposition
        assert "\n" not in disposition
        assert disposition.endswith("filename*=UTF-8''" + quote(kept, safe="")), sent


async def test_a_quote_or_line_break_in_a_name_cannot_forge_a_response_header(
    world: World,
) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    added = await attach(
        desk, ticket["id"], filename="x\"; filename*=UTF-8''evil.html\"\r\nSet-Cookie: a=b"
    )
    got = await world.client.get(added["href"], headers=desk.customer)
    assert "set-cookie" not in got.headers
    disposition = got.headers["content-disposition"]
    assert disposition.count("filename*=") == 1
    assert disposition.startswith('attachment; filename="x_; filename_=UTF-8')


CLAIMED_TYPES = [
    ("not a type", "application/octet-stream", "attachment"),
    ("text/html<script>", "application/octet-stream", "attachment"),
    ("", "application/octet-stream", "attachment"),
    ("Text/HTML; charset=utf-8", "text/html", "attachment"),
    ("image/svg+xml", "image/svg+xml", "attachment"),
    ("image/png", "image/png", "inline"),
]


async def test_a_claimed_type_is_kept_only_when_well_formed_and_pages_are_never_shown(
    world: World,
) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    for claimed, stored, disposition in CLAIMED_TYPES:
        form = raw_form((file_part(b"page.html", claimed.encode()), b"<script>alert(1)</script>"))
        response = await world.client.post(
            f"/v1/tickets/{ticket['id']}/attachments",
            headers=desk.customer | form["headers"],
            content=form["content"],
        )
        assert response.status_code == 201, (claimed, response.text)
        assert response.json()["content_type"] == stored, claimed
        got = await world.client.get(response.json()["href"], headers=desk.customer)
        assert got.headers["content-type"] == stored
        assert got.headers["content-disposition"].startswith(disposition + ";"), claimed
        assert got.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in got.headers["content-security-policy"]


async def test_a_file_over_the_limit_is_refused_naming_the_limit_and_nothing_is_kept(
    world: World,
) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    url = f"/v1/tickets/{ticket['id']}/attachments"
    # Just over: the form reaches the use case, which names the limit.
    just_over = await world.client.post(url, headers=desk.customer, **upload(b"x" * (MIB + 1)))
    # Far over: refused by its Content-Length before the body is read.
    far_over = await world.client.post(url, headers=desk.customer, **upload(b"x" * (2 * MIB)))
    for refused in (just_over, far_over):
        assert refused.status_code == 413, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert "at most 1 MiB" in refused.json()["detail"]
    assert await files_of(desk, ticket["id"], desk.staff) == []


async def test_a_ticket_holds_at_most_its_total_and_the_file_that_would_pass_it_is_refused(
    world: World,
) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    for _ in range(2):
        await attach(desk, ticket["id"], data=b"x" * (MIB - 100))
    url = f"/v1/tickets/{ticket['id']}/attachments"
    refused = await world.client.post(url, headers=desk.customer, **upload(b"x" * 201))
    assert refused.status_code == 413, refused.text
    assert "at most 2 MiB" in refused.json()["detail"]
    assert len(await files_of(desk, ticket["id"], desk.staff)) == 2
    history = await desk.events(ticket["id"])
    assert [e["type"] for e in history].count("ticket.attachment_added") == 2
    # What is left still fits.
    await attach(desk, ticket["id"], data=b"x" * 200)


VISIBILITY = b'Content-Disposition: form-data; name="visibility"'
BAD_UPLOADS: list[tuple[str, dict[str, Any], int, str | None]] = [
    ("empty file", raw_form((file_part(b"empty.txt"), b"")), 422, "file"),
    ("no file part", raw_form((VISIBILITY, b"public")), 422, "file"),
    (
        "bad visibility",
        raw_form((file_part(b"a.txt"), b"x"), (VISIBILITY, b"secret")),
        422,
        "visibility",
    ),
    (
        "unknown field",
        raw_form(
            (file_part(b"a.txt"), b"x"), (b'Content-Disposition: form-data; name="colour"', b"red")
        ),
        422,
        "colour",
    ),
    (
        "unterminated",
        {
            "content": b"--b0undary\r\nno end",
            "headers": {"Content-Type": "multipart/form-data; boundary=b0undary"},
        },
        422,
        "body",
    ),
    (
        "no boundary",
        {"content": b"x", "headers": {"Content-Type": "multipart/form-data"}},
        422,
        "body",
    ),
    ("json", {"json": {"file": "aGVsbG8="}}, 415, None),
]


async def test_a_bad_upload_is_refused_naming_what_is_wrong_and_changes_nothing(
    world: World,
) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    for case, form, status, field in BAD_UPLOADS:
        sent = dict(form)
        headers = desk.customer | sent.pop("headers", {})
        response = await world.client.post(
            f"/v1/tickets/{ticket['id']}/attachments", headers=headers, **sent
        )
        assert response.status_code == status, (case, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        if field is not None:
            assert field in [e["field"] for e in response.json()["errors"]], case
    assert await files_of(desk, ticket["id"], desk.staff) == []


async def test_internal_files_stay_with_staff_on_every_channel(
    world: World, settings: Settings
) -> None:
    desk = await make_desk(world)
    admin = await world.api_client(Role.customer_admin, desk.enterprise["id"])
    async with http_receiver() as receiver, webhook_client() as http:
        hook = await world.client.post(
            "/v1/webhooks", json={"url": receiver.url, "events": ["ticket.*"]}, headers=admin
        )
        assert hook.status_code == 201, hook.text
        ticket = await desk.open()
        # A customer may not add an internal file.
        refused = await world.client.post(
            f"/v1/tickets/{ticket['id']}/attachments",
            headers=desk.customer,
            **upload(b"customer secret", visibility="internal"),
        )
        assert refused.status_code == 403, refused.text
        internal = await attach(
            desk,
            ticket["id"],
            desk.staff,
            data=b"PE core dump",
            filename="pe.core",
            visibility="internal",
        )
        world.clock.advance(timedelta(seconds=1))  # the internal file comes first
        public = await attach(
            desk, ticket["id"], desk.staff, data=b"OTDR trace", filename="otdr.sor"
        )
        async with world.sessionmaker() as session:
            await fan_out_all(session, world.clock)
        await WebhookDispatcher(world.sessionmaker, world.clock, settings, http).run_until_idle()

    # The webhook: the reference of the public file, never bytes, never the internal one.
    hooked = [r.json() for r in receiver.requests]
    assert [h["type"] for h in hooked] == ["ticket.created", "ticket.attachment_added"]
    reference = hooked[1]["data"]
    assert reference["attachment_id"] == public["id"]
    assert reference["filename"] == "otdr.sor"
    assert reference["size"] == len(b"OTDR trace")
    assert reference["href"] == public["href"]
    assert all(b"OTDR trace" not in r.body and b"pe.core" not in r.body for r in receiver.requests)

    # The lists, the downloads and the histories.
    assert await files_of(desk, ticket["id"], desk.customer) == [public]
    assert await files_of(desk, ticket["id"], desk.staff) == [internal, public]
    hidden = await world.client.get(internal["href"], headers=desk.customer)
    assert hidden.status_code == 404
    assert (await world.client.get(internal["href"], headers=desk.staff)).content == b"PE core dump"
    customer_history = await desk.events(ticket["id"], desk.customer)
    added = [
        e["data"]["attachment_id"]
        for e in customer_history
        if e["type"] == "ticket.attachment_added"
    ]
    assert added == [public["id"]]
    staff_history = await desk.events(ticket["id"])
    added = [
        e["data"]["attachment_id"] for e in staff_history if e["type"] == "ticket.attachment_added"
    ]
    assert added == [internal["id"], public["id"]]

    # TMF621 lists the public file as an attachment reference.
    tmf = await world.client.get(
        f"/tmf-api/troubleTicket/v4/troubleTicket/{ticket['id']}", headers=admin
    )
    assert tmf.status_code == 200, tmf.text
    assert tmf.json()["attachment"] == [
        {
            "id": public["id"],
            "href": public["href"],
            "url": public["href"],
            "name": "otdr.sor",
            "mimeType": "application/vnd.tcpdump.pcap",
            "size": {"amount": len(b"OTDR trace"), "units": "bytes"},
            "@type": "AttachmentRef",
            "@referredType": "Attachment",
        }
    ]


async def test_a_retried_upload_with_the_same_key_is_answered_once(world: World) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    url = f"/v1/tickets/{ticket['id']}/attachments"
    key = {"Idempotency-Key": str(uuid.uuid4())}
    # httpx draws a new boundary for each request: the retry's bytes differ, its form does not.
    first = await world.client.post(url, headers=desk.customer | key, **upload())
    retry = await world.client.post(url, headers=desk.customer | key, **upload())
    assert first.status_code == retry.status_code == 201, retry.text
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert len(await files_of(desk, ticket["id"], desk.staff)) == 1
    other = await world.client.post(url, headers=desk.customer | key, **upload(b"another file"))
    assert other.status_code == 422, other.text


async def test_another_enterprises_customer_finds_no_ticket_and_no_file(world: World) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    added = await attach(desk, ticket["id"])
    other = await world.enterprise("Other Bank", "PE")
    stranger = await world.api_client(Role.customer_admin, other["id"])
    url = f"/v1/tickets/{ticket['id']}/attachments"
    assert (await world.client.get(url, headers=stranger)).status_code == 404
    assert (await world.client.get(added["href"], headers=stranger)).status_code == 404
    posted = await world.client.post(url, headers=stranger, **upload())
    assert posted.status_code == 404
    assert len(await files_of(desk, ticket["id"], desk.staff)) == 1


async def test_two_files_racing_for_a_tickets_last_bytes_cannot_both_be_kept(
    fresh_database: str, settings: Settings, clock: FrozenClock
) -> None:
    # Real commits on a database of its own: two transactions, each on its own connection.
    engine = create_engine(fresh_database, pool_size=3)
    maker = create_sessionmaker(engine)
    try:
        app = create_app(settings, sessionmaker=maker, engine=engine, clock=clock)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            desk = await make_desk(await World.start(client, maker, clock))
            ticket = await desk.open()
        arguments: dict[str, Any] = {
            "owner": OwnerRef.ticket(uuid.UUID(ticket["id"])),
            "enterprise_id": uuid.UUID(desk.enterprise["id"]),
            "filename": "half.bin",
            "content_type": None,
            "data": b"x" * 6,
            "visibility": AttachmentVisibility.public,
            "author": "mail:noc@example.com",
            "at": clock.now(),
            "limits": Limits(per_file=10, per_owner=10),
        }
        async with maker() as first, maker() as second:
            await add_attachment(first, **arguments)  # holds the ticket until it commits
            racing = asyncio.create_task(add_attachment(second, **arguments))

            async def second_waits_for_the_lock() -> bool:
                async with maker() as watcher:
                    waiting = await watcher.scalar(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                            "current_database() AND wait_event_type = 'Lock'"
                        )
                    )
                return bool(waiting)

            await poll(second_waits_for_the_lock, within=10)
            await first.commit()
            with pytest.raises(PayloadTooLarge, match="at most 10 bytes"):
                await racing
        async with maker() as session:
            assert await session.scalar(select(func.count()).select_from(Attachment)) == 1
    finally:
        await engine.dispose()


@pytest.mark.long
async def test_a_file_of_the_default_limit_goes_in_and_out_whole_and_one_byte_more_does_not(
    engine: AsyncEngine, sessionmaker: Any, clock: FrozenClock
) -> None:
    # The default limits (25 MiB a file, 25 MiB a ticket), at full size.
    defaults = Settings(env="test", database_url="postgresql+asyncpg://unused/unused")
    app = create_app(defaults, sessionmaker=sessionmaker, engine=engine, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        desk = await make_desk(await World.start(client, sessionmaker, clock))
        ticket = await desk.open()
        url = f"/v1/tickets/{ticket['id']}/attachments"
        whole = os.urandom(25 * MIB)
        added = await client.post(url, headers=desk.customer, **upload(whole))
        assert added.status_code == 201, added.text
        got = await client.get(added.json()["href"], headers=desk.customer)
        assert got.content == whole
        over = await client.post(url, headers=desk.customer, **upload(whole + b"!"))
        assert over.status_code == 413
        assert "at most 25 MiB" in over.json()["detail"]
