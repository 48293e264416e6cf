"""Mail in over real SMTP (the worker's listener on loopback, smtplib as the sending server)
into real PostgreSQL: what a customer's mail becomes, and what never gets an answer."""

from __future__ import annotations

import smtplib
from typing import Any

import pytest
from sqlalchemy import select

from app.core.roles import Role
from app.core.settings import Settings, get_settings
from app.models import MailMessage
from app.services.delivery.mail_sender import send_due_mail
from tests.support.inbound import inbound_rows, listener, message, process_all, send
from tests.support.servers import smtp_server
from tests.support.world import World

REPAIR = "soporte@carrier.example"
BILLING = "facturacion@carrier.example"
CONTACT = "noc@acme.example"


async def setup(world: World) -> dict[str, Any]:
    """An enterprise with a service, a Spanish-speaking contact, and the two mailboxes."""
    enterprise = await world.enterprise("Acme Telecom", "EC")
    service = await world.service(enterprise["id"], code="QUI-MPLS-0042")
    admin = await world.api_client(Role.customer_admin, enterprise["id"])
    contact = {"name": "Ana NOC", "email": CONTACT, "language": "es", "events": ["ticket.closed"]}
    response = await world.client.post(
        f"/v1/enterprises/{enterprise['id']}/contacts", json=contact, headers=admin
    )
    assert response.status_code == 201, response.text
    for address, purpose in ((REPAIR, "technical_support"), (BILLING, "billing")):
        response = await world.client.put(
            f"/v1/mailboxes/{address}",
            json={"purpose": purpose, "country": "EC", "default_severity": "major"},
            headers=world.admin,
        )
        assert response.status_code == 200, response.text
    return {"enterprise": enterprise, "service": service}


async def mails_to(world: World, address: str) -> list[MailMessage]:
    async with world.sessionmaker() as session:
        rows = await session.scalars(
            select(MailMessage)
            .where(MailMessage.recipient == address)
            .order_by(MailMessage.created_at)
        )
        return list(rows)


async def tickets_of(world: World, enterprise_id: str) -> list[dict[str, Any]]:
    response = await world.client.get(
        "/v1/tickets", params={"enterprise_id": enterprise_id}, headers=world.admin
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def history(world: World, path: str) -> list[dict[str, Any]]:
    response = await world.client.get(f"{path}/events", headers=world.admin)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_contacts_mail_opens_a_ticket_in_reception_and_is_acknowledged_in_spanish(
    world: World,
) -> None:
    given = await setup(world)
    async with listener(world.sessionmaker, world.clock) as port:
        await send(
            port,
            message(
                f"Ana <{CONTACT}>",
                REPAIR,
                "Enlace caído QUI-MPLS-0042",
                "Sin servicio desde las 9.\n\nAna",
            ),
        )
    await process_all(world.sessionmaker, world.clock)

    [ticket] = await tickets_of(world, given["enterprise"]["id"])
    assert ticket["service_id"] == given["service"]["id"]
    assert ticket["stage"] == "reception"
    assert ticket["severity"] == "major"
    assert ticket["summary"] == "Enlace caído QUI-MPLS-0042"
    assert ticket["description"].startswith("Sin servicio desde las 9.")
    assert ticket["contact"]["email"] == CONTACT
    # The reception clock starts when the mail was received.
    assert ticket["reported_at"] == world.clock.now().isoformat().replace("+00:00", "Z")
    assert ticket["channel"] == "email"
    [ack] = await mails_to(world, CONTACT)
    assert ticket["number"] in ack.subject
    assert ack.language == "es"
    assert "Recibimos su correo" in ack.subject


async def test_a_reply_is_a_public_note_on_its_ticket_by_subject_and_by_in_reply_to(
    world: World,
) -> None:
    given = await setup(world)
    async with listener(world.sessionmaker, world.clock) as port:
        await send(port, message(CONTACT, REPAIR, "Caído QUI-MPLS-0042", "No hay enlace"))
        await process_all(world.sessionmaker, world.clock)
        [ticket] = await tickets_of(world, given["enterprise"]["id"])
        number = ticket["number"]
        await send(
            port,
            message(
                CONTACT,
                REPAIR,
                f"RE: [{number}] Caído",
                "Sigue caído.\n\nEl lun, Carrier Desk escribió:\n> Recibimos su correo",
            ),
        )
        # A reply to our acknowledgement, its subject changed: In-Reply-To names the ticket.
        with smtp_server() as outbox:
            settings = Settings(
                env="test", database_url="postgresql+asyncpg://u/u", smtp_url=outbox.url
            )
            async with world.sessionmaker() as session:
                await send_due_mail(session, world.clock, settings)
            our_id = str(outbox.mails[0].message["Message-ID"])
            # Our acknowledgement says it is automatic, so the customer's desk does not answer.
            assert outbox.mails[0].message["Auto-Submitted"] == "auto-generated"
        await send(
            port,
            message(
                CONTACT,
                REPAIR,
                "otra cosa",
                "Volvió a caer",
                headers={"In-Reply-To": our_id, "References": our_id},
            ),
        )
    await process_all(world.sessionmaker, world.clock)

    assert len(await tickets_of(world, given["enterprise"]["id"])) == 1
    notes = [
        e
        for e in await history(world, f"/v1/tickets/{ticket['id']}")
        if e["type"] == "ticket.note_added"
    ]
    assert [n["data"]["visibility"] for n in notes] == ["public", "public"]
    assert "Sigue caído." in notes[0]["data"]["body"]
    assert "Recibimos su correo" not in notes[0]["data"]["body"]  # the quoted history is gone
    assert "Volvió a caer" in notes[1]["data"]["body"]


async def test_mail_to_the_billing_mailbox_is_a_billing_request_due_in_48_business_hours(
    world: World,
) -> None:
    given = await setup(world)
    async with listener(world.sessionmaker, world.clock) as port:
        await send(
            port,
            message(
                CONTACT,
                BILLING,
                "PO 4500012345 para la factura de noviembre",
                "Adjuntamos la orden de compra.",
            ),
        )
        await process_all(world.sessionmaker, world.clock)
        response = await world.client.get(
            "/v1/billing-requests",
            params={"enterprise_id": given["enterprise"]["id"]},
            headers=world.admin,
        )
        [request] = response.json()["items"]
        assert request["type"] == "invoice_reference"
        assert request["channel"] == "email"
        due = await world.client.get(
            "/v1/calendars/EC/due",
            params={"start": request["received_at"], "business_hours": 48},
            headers=world.admin,
        )
        assert request["ack_due_at"] == due.json()["due_at"]
        [ack] = await mails_to(world, CONTACT)
        number = "BR-" + request["id"].replace("-", "")[:8].upper()
        assert number in ack.subject
        await send(port, message(CONTACT, BILLING, f"Re: [{number}]", "¿Alguna novedad?"))
    await process_all(world.sessionmaker, world.clock)
    notes = [
        e
        for e in await history(world, f"/v1/billing-requests/{request['id']}")
        if e["type"] == "billing.note_added"
    ]
    assert len(notes) == 1
    assert "¿Alguna novedad?" in notes[0]["data"]["body"]


async def test_an_unknown_senders_mail_waits_for_staff_unanswered_until_assigned(
    world: World,
) -> None:
    given = await setup(world)
    async with listener(world.sessionmaker, world.clock) as port:
        await send(port, message("stranger@elsewhere.example", REPAIR, "Ayuda", "no anda"))
    await process_all(world.sessionmaker, world.clock)

    staff = await world.staff(Role.tsc_engineer)
    response = await world.client.get(
        "/v1/inbound-messages", params={"status": "unmatched"}, headers=staff
    )
    [held] = response.json()["items"]
    assert held["sender"] == "stranger@elsewhere.example"
    assert held["reason"].startswith("unknown_sender")
    assert await mails_to(world, "stranger@elsewhere.example") == []  # no backscatter
    customer = await world.api_client(Role.customer_admin, given["enterprise"]["id"])
    refused = await world.client.get("/v1/inbound-messages", headers=customer)
    assert refused.status_code == 403

    response = await world.client.post(
        f"/v1/inbound-messages/{held['id']}/assign",
        json={"enterprise_id": given["enterprise"]["id"], "service_code": "QUI-MPLS-0042"},
        headers=staff,
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "processed"
    [ticket] = await tickets_of(world, given["enterprise"]["id"])
    assert response.json()["result_number"] == ticket["number"]
    assert await mails_to(world, "stranger@elsewhere.example") == []
    again = await world.client.post(
        f"/v1/inbound-messages/{held['id']}/discard", json={}, headers=staff
    )
    assert again.status_code == 409


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"List-Id": "<noc.acme.example>"},
    ],
)
async def test_automatic_mail_gets_no_answer_and_opens_nothing(
    world: World, headers: dict[str, str]
) -> None:
    given = await setup(world)
    async with listener(world.sessionmaker, world.clock) as port:
        await send(
            port,
            message(
                CONTACT, REPAIR, "Fuera de la oficina: QUI-MPLS-0042", "Vuelvo", headers=headers
            ),
        )
    await process_all(world.sessionmaker, world.clock)
    assert await tickets_of(world, given["enterprise"]["id"]) == []
    assert await mails_to(world, CONTACT) == []
    [row] = await inbound_rows(world.sessionmaker)
    assert row.status == "held"
    assert row.reason
    assert row.reason.startswith("automatic_mail")


async def test_a_bounce_with_a_null_sender_gets_no_answer(world: World) -> None:
    await setup(world)
    async with listener(world.sessionmaker, world.clock) as port:
        await send(port, message(CONTACT, REPAIR, "Undelivered QUI-MPLS-0042", "x"), mail_from="")
    await process_all(world.sessionmaker, world.clock)
    assert await mails_to(world, CONTACT) == []


async def test_at_most_three_acknowledgements_per_sender_an_hour(world: World) -> None:
    given = await setup(world)
    async with listener(world.sessionmaker, world.clock) as port:
        for n in range(5):
            await send(port, message(CONTACT, REPAIR, f"Caída {n} QUI-MPLS-0042", "x"))
    await process_all(world.sessionmaker, world.clock)
    assert len(await tickets_of(world, given["enterprise"]["id"])) == 5
    assert len(await mails_to(world, CONTACT)) == 3


async def test_the_same_message_id_twice_is_processed_once(world: World) -> None:
    given = await setup(world)
    mail = message(CONTACT, REPAIR, "Caído QUI-MPLS-0042", "x")
    async with listener(world.sessionmaker, world.clock) as port:
        await send(port, mail)
        await send(port, mail)
    await process_all(world.sessionmaker, world.clock)
    assert len(await tickets_of(world, given["enterprise"]["id"])) == 1
    assert len(await inbound_rows(world.sessionmaker)) == 1


async def test_a_reply_naming_another_enterprises_ticket_is_held_not_noted(world: World) -> None:
    given = await setup(world)
    other = await world.enterprise("Other Corp", "EC")
    await world.service(other["id"], code="GYE-OTHER-1")
    async with listener(world.sessionmaker, world.clock) as port:
        await send(port, message(CONTACT, REPAIR, "Caído QUI-MPLS-0042", "x"))
        await process_all(world.sessionmaker, world.clock)
        staff = await world.staff(Role.tsc_engineer)
        response = await world.client.post(
            "/v1/tickets",
            headers=staff,
            json={
                "enterprise_id": other["id"],
                "service_code": "GYE-OTHER-1",
                "severity": "minor",
                "summary": "x",
                "contact": {"name": "X"},
            },
        )
        theirs = response.json()["number"]
        await send(port, message(CONTACT, REPAIR, f"Re: [{theirs}] hola", "nota ajena"))
    await process_all(world.sessionmaker, world.clock)
    events = await history(world, f"/v1/tickets/{response.json()['id']}")
    assert [e["type"] for e in events] == ["ticket.created"]
    held = [r for r in await inbound_rows(world.sessionmaker) if r.status == "held"]
    assert len(held) == 1
    assert held[0].reason
    assert held[0].reason.startswith("foreign_reference")
    assert len(await tickets_of(world, given["enterprise"]["id"])) == 1


async def test_mail_naming_no_service_opens_a_ticket_without_one(world: World) -> None:
    given = await setup(world)
    async with listener(world.sessionmaker, world.clock) as port:
        await send(port, message(CONTACT, REPAIR, "No tenemos internet", "en la sede"))
    await process_all(world.sessionmaker, world.clock)
    [ticket] = await tickets_of(world, given["enterprise"]["id"])
    assert ticket["service_id"] is None
    assert ticket["stage"] == "reception"
    [ack] = await mails_to(world, CONTACT)
    assert ticket["number"] in ack.subject


async def test_html_only_mail_becomes_text(world: World) -> None:
    given = await setup(world)
    html = "<html><body><p>Enlace <b>QUI-MPLS-0042</b> ca&iacute;do</p><script>x()</script>"
    async with listener(world.sessionmaker, world.clock) as port:
        await send(port, message(CONTACT, REPAIR, "Caído", html=html))
    await process_all(world.sessionmaker, world.clock)
    [ticket] = await tickets_of(world, given["enterprise"]["id"])
    assert ticket["description"] == "Enlace QUI-MPLS-0042 caído"


async def test_mail_to_an_undeclared_address_is_refused_at_rcpt(world: World) -> None:
    await setup(world)
    async with listener(world.sessionmaker, world.clock) as port:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            await send(port, message(CONTACT, "nadie@carrier.example", "x", "y"))
    assert refused.value.recipients["nadie@carrier.example"][0] == 550
    assert await inbound_rows(world.sessionmaker) == []


async def test_a_mails_attachment_is_listed_on_its_ticket_and_downloads_byte_for_byte(
    world: World,
) -> None:
    given = await setup(world)
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 40
    async with listener(world.sessionmaker, world.clock) as port:
        await send(
            port,
            message(
                CONTACT,
                REPAIR,
                "Caído QUI-MPLS-0042",
                "Adjunto la traza",
                attachments=[("traza.pdf", "application/pdf", pdf)],
            ),
        )
        await process_all(world.sessionmaker, world.clock)
        [ticket] = await tickets_of(world, given["enterprise"]["id"])
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
        await send(
            port,
            message(
                CONTACT,
                REPAIR,
                f"Re: [{ticket['number']}]",
                "Foto",
                attachments=[("foto.png", "image/png", png)],
            ),
        )
    await process_all(world.sessionmaker, world.clock)

    customer = await world.api_client(Role.customer_user, given["enterprise"]["id"])
    listed = await world.client.get(f"/v1/tickets/{ticket['id']}/attachments", headers=customer)
    assert listed.status_code == 200, listed.text
    files = {f["filename"]: f for f in listed.json()["items"]}  # one from each mail
    assert sorted(files) == ["foto.png", "traza.pdf"]
    download = await world.client.get(files["traza.pdf"]["href"], headers=customer)
    assert download.status_code == 200
    assert download.content == pdf
    assert download.headers["content-type"].startswith("application/pdf")


async def test_an_attachment_over_the_limit_holds_the_mail_and_writes_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = await setup(world)
    monkeypatch.setenv("CARRIERDESK_ATTACHMENT_MAX_BYTES", "1000")
    get_settings.cache_clear()
    try:
        async with listener(world.sessionmaker, world.clock) as port:
            await send(
                port,
                message(
                    CONTACT,
                    REPAIR,
                    "Caído QUI-MPLS-0042",
                    "x",
                    attachments=[("big.bin", "application/octet-stream", b"\x01" * 5000)],
                ),
            )
        await process_all(world.sessionmaker, world.clock)
    finally:
        get_settings.cache_clear()
    assert await tickets_of(world, given["enterprise"]["id"]) == []
    assert await mails_to(world, CONTACT) == []
    [row] = await inbound_rows(world.sessionmaker)
    assert row.status == "held"
    assert row.reason is not None
    assert "big.bin" in row.reason or "at most" in row.reason
