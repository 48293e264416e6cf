"""Which SLA terms a ticket's clocks follow: the service's own site, never a site the reporter
writes; before the service is named, the enterprise's country and the default tier."""

from __future__ import annotations

from typing import Any

from app.core.roles import Role
from app.services.tickets.rules import CityTier, sla_terms
from tests.support.tickets import HANDBOOK_TARGETS, make_desk
from tests.support.world import World


async def _set_policy(world: World, country: str, **targets: str) -> None:
    body = {
        "targets": {**HANDBOOK_TARGETS, **targets},
        "dispatch": {"main": "PT3H", "intermediate": "PT6H", "remote": None},
        "warning_ratio": 0.75,
        "escalation_ratios": [1.0, 1.5, 2.0],
    }
    response = await world.client.put(f"/v1/sla-policies/{country}", json=body, headers=world.admin)
    assert response.status_code == 200, response.text


def test_the_terms_are_the_services_site_or_until_named_the_enterprises_country() -> None:
    named = sla_terms(
        enterprise_country="EC", service_country="PE", service_city_tier=CityTier.main
    )
    assert (named.country, named.city_tier) == ("PE", CityTier.main)
    unnamed = sla_terms(enterprise_country="EC", service_country=None, service_city_tier=None)
    assert (unnamed.country, unnamed.city_tier) == ("EC", CityTier.intermediate)


async def test_a_site_written_on_the_ticket_does_not_choose_the_sla_terms(world: World) -> None:
    # The customer's contract is for a service in Quito (a main city of Ecuador). Peru's policy
    # here is far laxer; writing a remote Peruvian site on the ticket must not buy those terms.
    desk = await make_desk(world, city="Quito", country="EC")
    await _set_policy(world, "PE", reception="PT2H")
    ticket = await desk.open(
        site={"address": "Km 40 de la carretera", "city": "Pueblo Lejano", "country": "PE"}
    )
    assert ticket["sla"][0]["target"] == "PT1M"  # Ecuador's reception target, not Peru's
    assert ticket["city_tier"] == "main"  # Quito's tier, not the written site's
    assert ticket["site"]["city"] == "Pueblo Lejano"  # kept, as information for the engineer
    read = await world.client.get(f"/v1/tickets/{ticket['id']}", headers=desk.customer)
    assert read.json()["sla"][0]["target"] == "PT1M"
    registration = await desk.move(ticket["id"], "registration")
    assert registration["sla"][-1]["target"] == HANDBOOK_TARGETS["registration"]


async def _open_without_service(desk: Any, **extra: Any) -> dict[str, Any]:
    body = {
        "severity": "major",
        "summary": "Customers in the north cannot reach us",
        "contact": {"name": "NOC duty desk"},
        **extra,
    }
    response = await desk.world.client.post("/v1/tickets", json=body, headers=desk.customer)
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


async def test_a_ticket_opens_without_a_service_and_the_tsc_names_it(world: World) -> None:
    # The enterprise is Ecuadorian; the service it will turn out to be is in Lima, and Peru's
    # registration target differs, so naming the service visibly changes the next clock.
    desk = await make_desk(world, city="Quito", country="EC")
    enterprise = desk.enterprise
    lima = await world.service(enterprise["id"], city="Lima", country="PE")
    await _set_policy(world, "PE", registration="PT9M")
    ticket = await _open_without_service(desk)
    assert ticket["service_id"] is None
    assert ticket["city_tier"] == "intermediate"
    assert ticket["sla"][0]["state"] == "running"
    assert ticket["sla"][0]["target"] == "PT1M"  # Ecuador's reception target
    listed = await world.client.get("/v1/tickets", headers=desk.customer)
    assert [t["id"] for t in listed.json()["items"]] == [ticket["id"]]

    url = f"/v1/tickets/{ticket['id']}"
    refused = await world.client.patch(url, json={"service_id": lima["id"]}, headers=desk.customer)
    assert refused.status_code == 403, refused.text
    named = await world.client.patch(url, json={"service_id": lima["id"]}, headers=desk.staff)
    assert named.status_code == 200, named.text
    assert named.json()["service_id"] == lima["id"]
    assert named.json()["city_tier"] == "main"  # Lima is one of Peru's main cities
    assert named.json()["sla"][0]["target"] == "PT1M"  # the running clock keeps its target
    assert named.json()["site"]["city"] == "Lima"  # no site was written: the service's
    registration = await desk.move(ticket["id"], "registration")
    assert registration["sla"][-1]["target"] == "PT9M"  # Peru's, from the service's site
    updated = [e for e in await desk.events(ticket["id"]) if e["type"] == "ticket.updated"]
    assert updated[-1]["data"]["changes"]["service_id"] == lima["id"]


async def test_moving_past_registration_needs_a_service_and_a_transition_may_name_it(
    world: World,
) -> None:
    desk = await make_desk(world)
    ticket = await _open_without_service(desk)
    await desk.move(ticket["id"], "registration")  # registering the case needs no service yet
    moves = f"/v1/tickets/{ticket['id']}/transitions"
    refused = await world.client.post(moves, json={"to": "diagnosis"}, headers=desk.staff)
    assert refused.status_code == 409, refused.text
    assert "service_id" in refused.json()["detail"]
    unchanged = await world.client.get(f"/v1/tickets/{ticket['id']}", headers=desk.staff)
    assert unchanged.json()["stage"] == "registration"
    assert unchanged.json()["sla"][-1]["state"] == "running"

    other = await world.enterprise("Another Bank", "EC")
    foreign = await world.service(other["id"])
    body = {"to": "diagnosis", "service_id": foreign["id"]}
    wrong = await world.client.post(moves, json=body, headers=desk.staff)
    assert wrong.status_code == 422, wrong.text
    assert "service_id" in wrong.text
    again = await world.client.get(f"/v1/tickets/{ticket['id']}", headers=desk.staff)
    assert again.json()["stage"] == "registration"
    assert again.json()["service_id"] is None

    by_code = {"to": "diagnosis", "service_code": desk.service["code"]}
    moved = await world.client.post(moves, json=by_code, headers=desk.staff)
    assert moved.status_code == 200, moved.text
    assert moved.json()["stage"] == "diagnosis"
    assert moved.json()["service_id"] == desk.service["id"]
    assert moved.json()["sla"][-1]["target"] == HANDBOOK_TARGETS["diagnosis"]


async def test_a_ticket_without_a_service_may_be_cancelled(world: World) -> None:
    desk = await make_desk(world)
    ticket = await _open_without_service(desk)
    cancelled = await desk.move(ticket["id"], "cancelled")
    assert cancelled["status"] == "cancelled"


async def test_staff_open_a_ticket_without_a_service_for_a_named_enterprise(world: World) -> None:
    desk = await make_desk(world)
    admin = await world.staff(Role.tsc_engineer)
    body = {"severity": "minor", "summary": "Slow", "contact": {"name": "Phone call"}}
    unnamed = await world.client.post("/v1/tickets", json=body, headers=admin)
    assert unnamed.status_code == 422, unnamed.text
    assert "enterprise_id" in unnamed.text
    body["enterprise_id"] = desk.enterprise["id"]
    opened = await world.client.post("/v1/tickets", json=body, headers=admin)
    assert opened.status_code == 201, opened.text
    assert opened.json()["enterprise_id"] == desk.enterprise["id"]
