"""Bad mail: each is held or refused with a clear reason; nothing half-written, nothing lost,
no 5xx on the API."""

from __future__ import annotations

import asyncio
import smtplib

import pytest

from app.core.roles import Role
from app.services.inbound_mail.parsing import parse_mail
from app.services.inbound_mail.rules import MAX_MESSAGE_BYTES
from tests.support.inbound import inbound_rows, listener, message, process_all, send, send_blocking
from tests.support.world import World
from tests.test_inbound_mail import CONTACT, REPAIR, mails_to, setup, tickets_of


async def held_reason(world: World) -> str:
    [row] = await inbound_rows(world.sessionmaker)
    assert row.status in ("held", "unmatched")
    assert row.reason is not None
    return row.reason


async def send_raw(world: World, raw: bytes, mail_from: str = CONTACT) -> None:
    async with listener(world.sessionmaker, world.clock) as port:
        await asyncio.to_thread(send_blocking, port, raw, mail_from, [REPAIR])
    await process_all(world.sessionmaker, world.clock)


async def test_mail_without_a_from_is_held_and_answers_nobody(world: World) -> None:
    given = await setup(world)
    await send_raw(
        world,
        b"To: soporte@carrier.example\r\nSubject: QUI-MPLS-0042 down\r\n"
        b"Message-ID: <nofrom@x>\r\n\r\nhelp\r\n",
    )
    assert (await held_reason(world)).startswith("invalid_from")
    assert await tickets_of(world, given["enterprise"]["id"]) == []
    assert await mails_to(world, CONTACT) == []


async def test_a_from_that_failed_dmarc_is_held_as_forged(world: World) -> None:
    given = await setup(world)
    forged = message(
        CONTACT,
        REPAIR,
        "Caído QUI-MPLS-0042",
        "x",
        headers={"Authentication-Results": "mx.carrier.example; spf=fail; dkim=none; dmarc=fail"},
    )
    async with listener(world.sessionmaker, world.clock) as port:
        await send(port, forged)
    await process_all(world.sessionmaker, world.clock)
    assert (await held_reason(world)).startswith("forged_from")
    assert await tickets_of(world, given["enterprise"]["id"]) == []
    assert await mails_to(world, CONTACT) == []


async def test_a_subject_in_an_unknown_charset_is_held_with_the_reason(world: World) -> None:
    await setup(world)
    await send_raw(
        world,
        b"From: noc@acme.example\r\nTo: soporte@carrier.example\r\n"
        b"Subject: =?x-klingon?Q?caf=E9?= QUI-MPLS-0042\r\n"
        b"Message-ID: <charset@x>\r\n\r\nhelp\r\n",
    )
    assert "character set" in await held_reason(world)


async def test_malformed_mime_is_stored_and_held_never_a_failure(world: World) -> None:
    given = await setup(world)
    raw = (
        b"From: noc@acme.example\r\nTo: soporte@carrier.example\r\nSubject: QUI-MPLS-0042\r\n"
        b"Message-ID: <broken@x>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="never"\r\n\r\n'
        b"--wrong\r\nContent-Type: text/plain; charset=no-such-charset\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!! not base64 \xff\xfe\r\n"
    )
    await send_raw(world, raw)
    [row] = await inbound_rows(world.sessionmaker)
    assert row.raw == raw  # nothing lost: the bytes as received
    assert row.status in ("held", "processed")
    if row.status == "processed":
        [ticket] = await tickets_of(world, given["enterprise"]["id"])
        assert ticket["summary"] == "QUI-MPLS-0042"


async def test_a_60_mb_message_is_refused_with_552_and_nothing_is_stored(world: World) -> None:
    await setup(world)
    body = b"x" * 76 + b"\r\n"
    raw = (
        b"From: noc@acme.example\r\nTo: soporte@carrier.example\r\nSubject: big\r\n\r\n"
        + body * (60_000_000 // len(body))
    )
    assert len(raw) > MAX_MESSAGE_BYTES
    async with listener(world.sessionmaker, world.clock) as port:
        with pytest.raises(smtplib.SMTPException) as refused:
            await asyncio.to_thread(send_blocking, port, raw, CONTACT, [REPAIR])
    code = getattr(refused.value, "smtp_code", None) or refused.value.recipients[REPAIR][0]  # type: ignore[attr-defined]
    assert code == 552
    assert await inbound_rows(world.sessionmaker) == []


def test_hostile_attachment_names_name_a_file_and_nothing_else() -> None:
    mail = message(
        CONTACT,
        REPAIR,
        "x",
        "y",
        attachments=[
            ("../../etc/passwd", "text/plain", b"a"),
            ("C:\\Windows\\system32\\evil.exe", "application/octet-stream", b"b"),
            ("\x00\x1b[31m.bashrc", "text/plain", b"c"),
            ("", "application/pdf", b"%PDF"),
            ("a" * 500 + ".pdf", "application/pdf", b"d"),
        ],
    )
    parsed = parse_mail(mail.as_bytes())
    names = [a.filename for a in parsed.attachments]
    assert names[:4] == ["passwd", "evil.exe", "[31m.bashrc", "attachment"]
    assert len(names[4]) <= 200
    assert names[4].endswith(".pdf")
    assert [a.data for a in parsed.attachments][:4] == [b"a", b"b", b"c", b"%PDF"]


async def test_assigning_or_discarding_bad_ids_answers_4xx_problems(world: World) -> None:
    staff = await world.staff(Role.tsc_engineer)
    missing = "00000000-0000-4000-8000-000000000001"
    for path, body in (
        (f"/v1/inbound-messages/{missing}/assign", {"enterprise_id": missing}),
        (f"/v1/inbound-messages/{missing}/discard", {}),
        ("/v1/inbound-messages/not-a-uuid/discard", {}),
        (f"/v1/inbound-messages/{missing}/assign", {"enterprise": "x"}),
    ):
        response = await world.client.post(path, json=body, headers=staff)
        assert 400 <= response.status_code < 500, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    response = await world.client.get(
        "/v1/inbound-messages", params={"status": "nope"}, headers=staff
    )
    assert response.status_code == 422


async def test_mailboxes_are_declared_listed_and_removed_by_administrators(world: World) -> None:
    listed = await world.client.get("/v1/mailboxes", params={"limit": 200}, headers=world.admin)
    seeded = {m["address"]: m for m in listed.json()["items"]}
    # The handbook's billing mailboxes, seeded.
    assert seeded["bra-billing@lumen.com"]["purpose"] == "billing"
    assert seeded["bra-billing@lumen.com"]["country"] == "BR"

    put = await world.client.put(
        "/v1/mailboxes/Soporte@Carrier.example",
        json={"purpose": "technical_support", "country": "ec"},
        headers=world.admin,
    )
    assert put.status_code == 200, put.text
    assert put.json()["address"] == "soporte@carrier.example"
    assert put.json()["country"] == "EC"
    assert put.headers["ETag"]
    for bad in (
        {"purpose": "sales", "country": "EC"},
        {"purpose": "billing", "country": "ZZ"},
        {"purpose": "billing", "country": "EC", "default_severity": "apocalyptic"},
        {"purpose": "billing", "country": "EC", "extra": 1},
    ):
        response = await world.client.put(
            "/v1/mailboxes/x@carrier.example", json=bad, headers=world.admin
        )
        assert response.status_code == 422, bad
    response = await world.client.put(
        "/v1/mailboxes/not-an-address",
        json={"purpose": "billing", "country": "EC"},
        headers=world.admin,
    )
    assert response.status_code == 422
    agent = await world.staff(Role.tsc_engineer)
    response = await world.client.put(
        "/v1/mailboxes/y@carrier.example",
        json={"purpose": "billing", "country": "EC"},
        headers=agent,
    )
    assert response.status_code == 403

    gone = await world.client.delete("/v1/mailboxes/soporte@carrier.example", headers=world.admin)
    assert gone.status_code == 204
    again = await world.client.delete("/v1/mailboxes/soporte@carrier.example", headers=world.admin)
    assert again.status_code == 404
