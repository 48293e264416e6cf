"""Network incidents: one outage over two enterprises' services, each seeing only its own, on
`/v1` and on Sonata; new tickets link themselves; resolving moves tickets to verification."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from app.core.clock import FrozenClock
from app.core.roles import Role
from app.core.settings import Settings
from app.services.delivery.dispatcher import WebhookDispatcher, webhook_client
from app.services.delivery.fanout import fan_out_all
from app.services.delivery.http1 import WebhookClient
from app.services.delivery.mail_sender import send_due_mail
from app.services.incidents.rules import shortest_path
from app.services.tickets.rules import Stage, next_stages
from tests.support.servers import Mailbox, http_receiver, smtp_server
from tests.support.world import World

SONATA = "/mefApi/sonata/troubleTicket/v4"
CONTACT = {"name": "NOC duty desk", "phone": "+593 2 400 5124", "email": "noc@acme.example"}


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as mailbox:
        yield mailbox


@pytest.fixture
def settings(mailbox: Mailbox) -> Settings:
    return Settings(
        env="test",
        database_url="postgresql+asyncpg://unused/unused",
        webhook_allow_private=True,
        smtp_url=mailbox.url,
    )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC))


@pytest.fixture
async def http() -> AsyncIterator[WebhookClient]:
    async with webhook_client() as client:
        yield client


async def _ticket(world: World, headers: dict[str, str], service: dict[str, Any]) -> str:
    body = {
        "service_id": service["id"],
        "severity": "critical",
        "summary": "Link down",
        "contact": CONTACT,
    }
    opened = await world.client.post("/v1/tickets", json=body, headers=headers)
    assert opened.status_code == 201, opened.text
    return str(opened.json()["id"])


async def test_an_incident_over_two_enterprises_shows_each_only_its_own(
    world: World, settings: Settings, http: WebhookClient, mailbox: Mailbox
) -> None:
    acme = await world.enterprise("Acme", "EC")
    andes = await world.enterprise("Andes Wholesale", "PE")
    bystander = await world.enterprise("Bystander", "EC")
    acme_line = await world.service(acme["id"])
    acme_spare = await world.service(acme["id"])
    andes_line = await world.service(andes["id"], city="Lima", country="PE")
    acme_user = await world.api_client(Role.customer_admin, acme["id"])
    andes_carrier = await world.api_client(Role.carrier, andes["id"])
    acme_carrier = await world.api_client(Role.carrier, acme["id"])
    outsider = await world.api_client(Role.carrier, bystander["id"])
    # A carrier client reads incidents on its Sonata face; /v1 is for the enterprise's people.
    andes_user = await world.api_client(Role.customer_user, andes["id"])
    tsc = await world.staff(Role.tsc_engineer)
    early = await _ticket(world, acme_user, acme_line)

    async with http_receiver() as acme_hook, http_receiver() as andes_hook:
        for enterprise, hook in ((acme, acme_hook), (andes, andes_hook)):
            made = await world.client.post(
                "/v1/webhooks",
                json={"url": hook.url, "events": ["incident.*"], "enterprise_id": enterprise["id"]},
                headers=world.admin,
            )
            assert made.status_code == 201, made.text
            contacts = await world.client.post(
                f"/v1/enterprises/{enterprise['id']}/contacts",
                json={
                    "name": "Incidents",
                    "email": f"incidents@{enterprise['id']}.example",
                    "language": "es" if enterprise is acme else "pt",
                    "events": ["incident.*"],
                },
                headers=world.admin,
            )
            assert contacts.status_code == 201, contacts.text
        refused = await world.client.post(
            "/v1/incidents",
            json={"summary": "Fibre cut", "service_ids": [acme_line["id"]]},
            headers=acme_user,
        )
        assert refused.status_code == 403
        declared = await world.client.post(
            "/v1/incidents",
            json={
                "summary": "Backbone fibre cut Quito-Lima",
                "impact": "down",
                "service_ids": [acme_line["id"], andes_line["id"]],
                "ticket_ids": [early],
            },
            headers={**tsc, "Idempotency-Key": "inc-1"},
        )
        assert declared.status_code == 201, declared.text
        incident = declared.json()
        assert incident["number"].startswith("INC-")
        assert {s["id"] for s in incident["services"]} == {acme_line["id"], andes_line["id"]}

        # A ticket opened now on an affected service is worked under the incident by itself;
        # one on a service the incident does not touch is not.
        late = await _ticket(world, andes_carrier, andes_line)
        unrelated = await _ticket(world, acme_user, acme_spare)

        acme_sees = (await world.client.get("/v1/incidents", headers=acme_user)).json()["items"]
        assert [i["id"] for i in acme_sees] == [incident["id"]]
        assert [s["id"] for s in acme_sees[0]["services"]] == [acme_line["id"]]
        assert [t["id"] for t in acme_sees[0]["tickets"]] == [early]
        andes_sees = await world.client.get(f"/v1/incidents/{incident['id']}", headers=andes_user)
        assert andes_sees.status_code == 200
        assert [s["id"] for s in andes_sees.json()["services"]] == [andes_line["id"]]
        assert [t["id"] for t in andes_sees.json()["tickets"]] == [late]
        staff_sees = (await world.client.get(f"/v1/incidents/{incident['id']}", headers=tsc)).json()
        assert {t["id"] for t in staff_sees["tickets"]} == {early, late}
        assert unrelated not in {t["id"] for t in staff_sees["tickets"]}

        # TMF621 carries the incident as a related entity of the ticket.
        tmf = await world.client.get(
            f"/tmf-api/troubleTicket/v4/troubleTicket/{early}", headers=acme_user
        )
        related = [(e["id"], e["role"]) for e in tmf.json()["relatedEntity"]]
        assert (incident["id"], "networkIncident") in related

        # Sonata: the wholesale face of the same incident, each buyer its own products.
        for carrier, line, ticket in (
            (acme_carrier, acme_line, early),
            (andes_carrier, andes_line, late),
        ):
            listed = await world.client.get(f"{SONATA}/incident", headers=carrier)
            assert listed.status_code == 200, listed.text
            assert [i["id"] for i in listed.json()] == [incident["id"]]
            seen = listed.json()[0]
            assert [e["id"] for e in seen["relatedEntity"]] == [line["id"]]
            assert [e["id"] for e in seen["relatedIssue"]] == [ticket]
            assert (seen["status"], seen["impact"]) == ("inProgress", "down")
            assert seen["relatedContactInformation"][0]["number"].startswith("+")
            one = await world.client.get(f"{SONATA}/incident/{incident['id']}", headers=carrier)
            assert one.json() == seen
        filtered = {
            "status=inProgress": [incident["id"]],
            "status=closed": [],
            f"relatedEntityId={andes_line['id']}": [],  # another buyer's product: none of its
            f"relatedEntityId={acme_line['id']}": [incident["id"]],
            "impact=down&severity=extensive": [incident["id"]],
        }
        for query, expected in filtered.items():
            found = await world.client.get(f"{SONATA}/incident?{query}", headers=acme_carrier)
            assert [i["id"] for i in found.json()] == expected, query
        bad = await world.client.get(f"{SONATA}/incident?impact=meh", headers=acme_carrier)
        assert bad.status_code == 400
        assert bad.json()["code"] == "invalidQuery"
        outsider_user = await world.api_client(Role.customer_user, bystander["id"])
        for path, who in (
            (f"/v1/incidents/{incident['id']}", outsider_user),
            (f"{SONATA}/incident/{incident['id']}", outsider),
        ):
            assert (await world.client.get(path, headers=who)).status_code == 404
        assert (await world.client.get(f"{SONATA}/incident", headers=outsider)).json() == []

        resolved = await world.client.post(
            f"/v1/incidents/{incident['id']}/resolve",
            json={"resolution": "Fibre spliced at km 212"},
            headers=tsc,
        )
        assert resolved.status_code == 200, resolved.text
        assert resolved.json()["status"] == "resolved"
        for ticket, who in ((early, acme_user), (late, andes_carrier)):
            now = (await world.client.get(f"/v1/tickets/{ticket}", headers=who)).json()
            assert now["stage"] == "verification"
            history = await world.client.get(f"/v1/tickets/{ticket}/events", headers=who)
            notes = [e["data"].get("note") for e in history.json()["items"]]
            assert "Fibre spliced at km 212" in (notes[-1] or "")
        untouched = (await world.client.get(f"/v1/tickets/{unrelated}", headers=acme_user)).json()
        assert untouched["stage"] == "reception"
        closed = await world.client.get(f"{SONATA}/incident/{incident['id']}", headers=acme_carrier)
        assert closed.json()["status"] == "closed"

        async with world.sessionmaker() as session:
            await fan_out_all(session, world.clock)
        await WebhookDispatcher(world.sessionmaker, world.clock, settings, http).run_until_idle()
        async with world.sessionmaker() as session:
            while await send_due_mail(session, world.clock, settings):
                pass

    for enterprise, line, foreign in (
        (acme, acme_line, andes_line),
        (andes, andes_line, acme_line),
    ):
        mails = mailbox.to(f"incidents@{enterprise['id']}.example")
        assert sorted(m.subject for m in mails) == sorted(
            [
                f"[{incident['number']}] Incidente de red que afecta sus servicios"
                if enterprise is acme
                else f"[{incident['number']}] Incidente de rede afetando seus serviços",
                f"[{incident['number']}] Incidente de red resuelto"
                if enterprise is acme
                else f"[{incident['number']}] Incidente de rede resolvido",
            ]
        )
        assert all(line["code"] in m.text and foreign["code"] not in m.text for m in mails)
    for hook, line, tickets in ((acme_hook, acme_line, [early]), (andes_hook, andes_line, [late])):
        heard = [r.json() for r in hook.requests]
        assert [h["type"] for h in heard] == ["incident.declared", "incident.resolved"]
        for told in heard:
            assert told["data"]["service_ids"] == [line["id"]]  # never the other's
        assert heard[1]["data"]["ticket_ids"] == tickets
        assert heard[1]["data"]["resolution"] == "Fibre spliced at km 212"


async def test_staff_link_and_unlink_services_and_the_newly_affected_see_it(world: World) -> None:
    acme = await world.enterprise("Acme", "EC")
    other = await world.enterprise("Other", "EC")
    line = await world.service(acme["id"])
    theirs = await world.service(other["id"])
    tsc = await world.staff(Role.tsc_engineer)
    viewer = await world.api_client(Role.customer_user, other["id"])
    incident = (
        await world.client.post(
            "/v1/incidents", json={"summary": "Power", "service_ids": [line["id"]]}, headers=tsc
        )
    ).json()
    url = f"/v1/incidents/{incident['id']}"
    assert (await world.client.get(url, headers=viewer)).status_code == 404
    linked = await world.client.put(f"{url}/services/{theirs['id']}", headers=tsc)
    assert linked.status_code == 200, linked.text
    seen = await world.client.get(url, headers=viewer)
    assert [s["id"] for s in seen.json()["services"]] == [theirs["id"]]
    again = await world.client.put(f"{url}/services/{theirs['id']}", headers=tsc)
    assert again.status_code == 409
    unlinked = await world.client.delete(f"{url}/services/{theirs['id']}", headers=tsc)
    assert unlinked.status_code == 200
    assert (await world.client.get(url, headers=viewer)).status_code == 404
    await world.client.post(f"{url}/resolve", json={"resolution": "Restored"}, headers=tsc)
    late = await world.client.put(f"{url}/services/{theirs['id']}", headers=tsc)
    assert late.status_code == 409  # a resolved incident is final


def test_a_ticket_walks_the_shortest_way_to_verification() -> None:
    def following(stage: str) -> list[str]:
        return [s.value for s in next_stages(Stage(stage))]

    avoid = ["closed", "cancelled"]
    walk = shortest_path("reception", "verification", following, avoid)
    assert walk == ["registration", "diagnosis", "verification"]
    assert shortest_path("dispatch", "verification", following, avoid) == [
        "field_repair",
        "verification",
    ]
    assert shortest_path("closure", "verification", following, avoid) == []
