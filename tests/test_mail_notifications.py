"""E-mail notifications, sent to a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.core.events import record_event
from app.core.roles import Role
from app.core.settings import Settings
from app.models import MailMessage
from app.services.billing.rules import BillingStatus
from app.services.delivery.fanout import fan_out_all
from app.services.delivery.mail_sender import NO_SMTP, send_due_mail
from app.services.orders.events import OrderTouchpointRecorded
from tests.support.events import billing_event, maintenance_notice, ticket_event
from tests.support.servers import Mailbox, smtp_server
from tests.support.world import World


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as mailbox:
        yield mailbox


@pytest.fixture
def settings(mailbox: Mailbox) -> Settings:
    return Settings(
        env="test",
        database_url="postgresql+asyncpg://unused/unused",
        public_url="https://portal.test",
        smtp_url=mailbox.url,
    )


async def add_contact(
    world: World, enterprise_id: str, email: str, language: str, events: list[str]
) -> None:
    """As the customer administrator does, through the contacts API."""
    admin = await world.api_client(Role.customer_admin, enterprise_id)
    response = await world.client.post(
        f"/v1/enterprises/{enterprise_id}/contacts",
        json={"name": f"NOC {language}", "email": email, "language": language, "events": events},
        headers=admin,
    )
    assert response.status_code == 201, response.text


async def deliver_mail(world: World, settings: Settings) -> None:
    async with world.sessionmaker() as session:
        await fan_out_all(session, world.clock)
        while await send_due_mail(session, world.clock, settings):
            pass


async def open_ticket(world: World, enterprise: dict[str, Any], **extra: Any) -> Any:
    service = await world.service(enterprise["id"], city="Quito", country="EC")
    staff = await world.staff(Role.tsc_engineer)
    response = await world.client.post(
        "/v1/tickets",
        json={
            "enterprise_id": enterprise["id"],
            "service_id": service["id"],
            "severity": "critical",
            "summary": "Enlace caído",
            "contact": {"name": "NOC", "email": "reporter@acme.example"},
            **extra,
        },
        headers=staff,
    )
    assert response.status_code == 201, response.text
    return response.json(), staff


async def test_registration_mails_spanish_and_english_contacts_in_their_language(
    world: World, settings: Settings, mailbox: Mailbox
) -> None:
    acme = await world.enterprise("Acme", "EC")
    await add_contact(world, acme["id"], "es@acme.example", "es", ["ticket.*"])
    await add_contact(world, acme["id"], "en@acme.example", "en", ["ticket.*"])
    await add_contact(world, acme["id"], "billing@acme.example", "es", ["billing.*"])
    ticket, staff = await open_ticket(world, acme)
    await deliver_mail(world, settings)
    assert mailbox.mails == []  # reception is not a mailed stage

    world.clock.advance(timedelta(seconds=30))
    moved = await world.client.post(
        f"/v1/tickets/{ticket['id']}/transitions", json={"to": "registration"}, headers=staff
    )
    assert moved.status_code == 200, moved.text
    await deliver_mail(world, settings)

    (spanish,) = mailbox.to("es@acme.example")
    (english,) = mailbox.to("en@acme.example")
    assert ticket["number"] in spanish.subject
    assert ticket["number"] in english.subject
    assert "Registro" in spanish.subject
    assert "Registration" in english.subject
    assert "Estimado cliente" in spanish.text
    assert "Dear customer" in english.text
    # The due time in Quito's wall clock (UTC-5), and the TSC line to call.
    due = world.clock.now() + timedelta(minutes=4)
    local = (due - timedelta(hours=5)).strftime("%Y-%m-%d %H:%M")
    assert f"{local} (America/Guayaquil)" in spanish.text
    assert "Centro de Soporte Técnico" in spanish.text
    assert mailbox.to("billing@acme.example") == []
    assert len(mailbox.to("reporter@acme.example")) == 1  # the reporting contact too


async def test_a_maintenance_event_mails_only_the_enterprise_it_names(
    world: World, settings: Settings, mailbox: Mailbox
) -> None:
    acme = await world.enterprise("Acme", "EC")
    other = await world.enterprise("Other", "BR")
    await add_contact(world, acme["id"], "noc@acme.example", "es", ["maintenance.*"])
    await add_contact(world, other["id"], "noc@other.example", "pt", ["maintenance.*"])
    gcr = uuid.uuid4()
    start = world.clock.now() + timedelta(hours=1)
    # As the maintenance resource writes it: one event per impacted enterprise.
    async with world.sessionmaker() as session:
        await record_event(
            session,
            maintenance_notice("GCR-2026-000042", start, kind="emergency", reason="Fibra cortada"),
            subject_id=gcr,
            at=world.clock.now(),
            actor="test",
            enterprise_id=uuid.UUID(acme["id"]),
        )
        await session.commit()
    await deliver_mail(world, settings)

    (mail,) = mailbox.mails
    assert mail.recipient == ["noc@acme.example"]
    assert "GCR-2026-000042" in mail.subject
    assert "emergencia" in mail.subject.lower()
    assert "Corte del servicio" in mail.text


async def test_without_smtp_mail_is_kept_as_not_sent_with_the_reason(
    world: World, mailbox: Mailbox
) -> None:
    acme = await world.enterprise("Acme", "EC")
    await add_contact(world, acme["id"], "en@acme.example", "en", ["ticket.*"])
    ticket, staff = await open_ticket(world, acme)
    await world.client.post(
        f"/v1/tickets/{ticket['id']}/transitions", json={"to": "registration"}, headers=staff
    )
    no_smtp = Settings(env="test", database_url="postgresql+asyncpg://unused/unused")
    await deliver_mail(world, no_smtp)
    async with world.sessionmaker() as session:
        kept = (
            await session.execute(
                select(MailMessage).where(MailMessage.recipient == "en@acme.example")
            )
        ).scalar_one()
    assert kept.status == "not_sent"
    assert kept.last_error == NO_SMTP
    assert ticket["number"] in kept.subject
    assert mailbox.mails == []
    admin = await world.api_client(Role.customer_admin, acme["id"])
    log = await world.client.get("/v1/mail-messages?status=not_sent", headers=admin)
    assert log.status_code == 200
    shown = {m["recipient"]: m for m in log.json()["items"]}
    assert shown["en@acme.example"]["last_error"] == NO_SMTP
    other = await world.enterprise("Other", "PE")
    stranger = await world.api_client(Role.customer_admin, other["id"])
    assert (await world.client.get("/v1/mail-messages", headers=stranger)).json()["items"] == []


async def test_an_smtp_server_that_is_down_is_retried_and_nothing_is_lost(
    world: World, settings: Settings, mailbox: Mailbox
) -> None:
    acme = await world.enterprise("Acme", "EC")
    await add_contact(world, acme["id"], "en@acme.example", "en", ["ticket.*"])
    ticket, staff = await open_ticket(world, acme)
    await world.client.post(
        f"/v1/tickets/{ticket['id']}/transitions", json={"to": "registration"}, headers=staff
    )
    down = settings.model_copy(update={"smtp_url": "smtp://127.0.0.1:9"})
    await deliver_mail(world, down)
    async with world.sessionmaker() as session:
        waiting = (
            await session.execute(
                select(MailMessage).where(MailMessage.recipient == "en@acme.example")
            )
        ).scalar_one()
        assert waiting.status == "pending"
        assert waiting.attempts == 1
        assert waiting.last_error
    world.clock.advance(timedelta(seconds=10))
    await deliver_mail(world, settings)
    assert len(mailbox.to("en@acme.example")) == 1


async def test_an_escalation_mails_the_level_and_whom_to_call(
    world: World, settings: Settings, mailbox: Mailbox
) -> None:
    acme = await world.enterprise("Acme", "EC")
    await add_contact(world, acme["id"], "esc@acme.example", "en", ["ticket.escalated"])
    ticket, _staff = await open_ticket(world, acme)
    customer = await world.api_client(Role.customer_user, acme["id"])
    escalated = await world.client.post(
        f"/v1/tickets/{ticket['id']}/escalations",
        json={"reason": "No news for an hour"},
        headers=customer,
    )
    assert escalated.status_code == 201, escalated.text
    await deliver_mail(world, settings)
    (mail,) = mailbox.to("esc@acme.example")
    assert f"[{ticket['number']}] Ticket escalated to level 1" == mail.subject
    assert "No news for an hour" in mail.text
    assert "Escalation contacts" in mail.text or "Technical Service Center" in mail.text
    assert mailbox.to("reporter@acme.example") == []


@pytest.mark.parametrize("language", ["es", "pt", "en"])
async def test_order_touchpoints_and_billing_acknowledgements_mail_in_each_language(
    world: World, settings: Settings, mailbox: Mailbox, language: str
) -> None:
    acme = await world.enterprise("Acme", "EC")
    address = f"{language}@acme.example"
    await add_contact(world, acme["id"], address, language, ["order.*", "billing.*"])
    # Billing requests have no number of their own: mails name the short form of the id.
    billing_request = uuid.UUID("b2026000-0003-4000-8000-000000000003")
    async with world.sessionmaker() as session:
        for payload, subject_id in (
            (
                OrderTouchpointRecorded(
                    number="ORD-2026-000007", key="activation_planning", note="OK"
                ),
                uuid.uuid4(),
            ),
            (billing_event(BillingStatus.acknowledged), billing_request),
            (billing_event(BillingStatus.received), billing_request),  # not a mailed event
        ):
            await record_event(
                session,
                payload,
                subject_id=subject_id,
                at=world.clock.now(),
                actor="test",
                enterprise_id=uuid.UUID(acme["id"]),
            )
        await session.commit()
    await deliver_mail(world, settings)
    subjects = sorted(m.subject for m in mailbox.to(address))
    assert len(subjects) == 2
    assert subjects[0].startswith("[BR-B2026000]")
    assert subjects[1].startswith("[ORD-2026-000007]")
    planning = {"es": "Planificación de la activación", "en": "Activation planning"}
    assert planning.get(language, "Planejamento da ativação") in subjects[1]


async def test_an_event_whose_ticket_is_gone_writes_no_mail_and_holds_nothing_up(
    world: World, settings: Settings, mailbox: Mailbox
) -> None:
    acme = await world.enterprise("Acme", "EC")
    await add_contact(world, acme["id"], "en@acme.example", "en", ["ticket.*", "billing.*"])
    async with world.sessionmaker() as session:
        await record_event(
            session,
            ticket_event("ticket.closed", "BR-1"),
            subject_id=uuid.uuid4(),
            at=world.clock.now(),
            actor="test",
            enterprise_id=uuid.UUID(acme["id"]),
        )
        await record_event(
            session,
            billing_event(BillingStatus.acknowledged),
            subject_id=uuid.UUID("b1000000-0000-4000-8000-000000000001"),
            at=world.clock.now(),
            actor="test",
            enterprise_id=uuid.UUID(acme["id"]),
        )
        await session.commit()
    await deliver_mail(world, settings)
    assert [m.subject for m in mailbox.to("en@acme.example")] == [
        "[BR-B1000000] We received your billing request"
    ]


async def test_an_emergency_maintenance_mails_only_the_impacted_enterprise(
    world: World, settings: Settings, mailbox: Mailbox
) -> None:
    impacted = await world.enterprise("Acme", "EC")
    spared = await world.enterprise("Other", "EC")
    await add_contact(world, impacted["id"], "noc@acme.example", "es", ["maintenance.*"])
    await add_contact(world, spared["id"], "noc@other.example", "es", ["maintenance.*"])
    service = await world.service(impacted["id"])
    await world.service(spared["id"])
    manager = await world.staff(Role.change_manager)
    start = world.clock.now() + timedelta(hours=1)
    announced = await world.client.post(
        "/v1/maintenances",
        json={
            "kind": "emergency",
            "start": start.isoformat(),
            "end": (start + timedelta(hours=2)).isoformat(),
            "impacted_service_ids": [service["id"]],
            "reason": "Fibra cortada en la ruta Quito-Guayaquil",
            "expected_impact": "outage",
        },
        headers=manager,
    )
    assert announced.status_code == 201, announced.text
    gcr_number = announced.json()["gcr_number"]
    await deliver_mail(world, settings)

    (mail,) = mailbox.mails
    assert mail.recipient == ["noc@acme.example"]
    assert mail.subject == f"[{gcr_number}] Mantenimiento de emergencia"
    assert "Corte del servicio" in mail.text
    assert service["code"] in mail.text
    assert "(America/Guayaquil)" in mail.text


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_smtp_credentials_in_the_url_sign_in_to_the_server(world: World) -> None:
    acme = await world.enterprise("Acme", "EC")
    await add_contact(world, acme["id"], "en@acme.example", "en", ["billing.*"])
    async with world.sessionmaker() as session:
        await record_event(
            session,
            billing_event(BillingStatus.acknowledged, subject="Factura"),
            subject_id=uuid.uuid4(),
            at=world.clock.now(),
            actor="test",
            enterprise_id=uuid.UUID(acme["id"]),
        )
        await session.commit()
    with smtp_server(credentials=("desk", "s3cret/!")) as guarded:
        port = guarded.url.rsplit(":", 1)[1]
        anonymous = Settings(env="test", smtp_url=f"smtp://127.0.0.1:{port}")
        await deliver_mail(world, anonymous)
        assert guarded.mails == []  # refused: the server wants AUTH
        world.clock.advance(timedelta(seconds=10))
        right = Settings(env="test", smtp_url=f"smtp://desk:s3cret%2F%21@127.0.0.1:{port}")
        await deliver_mail(world, right)
        (mail,) = guarded.mails
    assert mail.recipient == ["en@acme.example"]
    assert mail.subject.endswith("We received your billing request")


async def test_one_fan_out_batch_mails_each_enterprise_only_about_its_own_tickets(
    world: World, settings: Settings, mailbox: Mailbox
) -> None:
    # Events of two enterprises fanned out together: the batch reads their contacts and
    # tickets at once, and each mail still goes only to its own enterprise's people.
    acme = await world.enterprise("Acme", "EC")
    other = await world.enterprise("Other", "EC")
    await add_contact(world, acme["id"], "noc@acme.example", "es", ["ticket.*"])
    await add_contact(world, other["id"], "noc@other.example", "en", ["ticket.*"])
    await add_contact(world, other["id"], "billing@other.example", "en", ["billing.*"])
    first, staff = await open_ticket(world, acme)
    second, _ = await open_ticket(
        world, other, contact={"name": "NOC", "email": "reporter@other.example"}
    )
    world.clock.advance(timedelta(seconds=30))
    for ticket in (first, second):
        moved = await world.client.post(
            f"/v1/tickets/{ticket['id']}/transitions", json={"to": "registration"}, headers=staff
        )
        assert moved.status_code == 200, moved.text
    await deliver_mail(world, settings)

    (acme_mail,) = mailbox.to("noc@acme.example")
    (other_mail,) = mailbox.to("noc@other.example")
    assert first["number"] in acme_mail.subject
    assert "Registro" in acme_mail.subject
    assert second["number"] in other_mail.subject
    assert "Registration" in other_mail.subject
    (reporter,) = mailbox.to("reporter@acme.example")
    assert first["number"] in reporter.subject
    (other_reporter,) = mailbox.to("reporter@other.example")
    assert second["number"] in other_reporter.subject
    assert mailbox.to("billing@other.example") == []
