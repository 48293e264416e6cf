"""Helpers for ticket tests: a ready tenant, its service, and callers of each kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.roles import Role
from tests.support.world import World

# The handbook's stage targets as every country's policy starts with them.
HANDBOOK_TARGETS = {
    "reception": "PT1M",
    "registration": "PT4M",
    "diagnosis": "PT20M",
    "field_repair": "PT4H",
    "verification": "PT10M",
    "stability": "PT6H",
    "closure": "PT30M",
}


@dataclass
class Desk:
    world: World
    enterprise: dict[str, Any]
    service: dict[str, Any]
    customer: dict[str, str]
    staff: dict[str, str]

    def body(self, **overrides: Any) -> dict[str, Any]:
        """A ticket on the desk's service, as its customer's NOC would send it."""
        body: dict[str, Any] = {
            "service_id": self.service["id"],
            "severity": "major",
            "summary": "Link down at the head office",
            "contact": {
                "name": "NOC duty desk",
                "phone": "+593 2 400 5124",
                "email": "noc@example.com",
            },
        }
        body.update(overrides)
        return body

    async def open(self, **overrides: Any) -> dict[str, Any]:
        response = await self.world.client.post(
            "/v1/tickets", json=self.body(**overrides), headers=self.customer
        )
        assert response.status_code == 201, response.text
        ticket: dict[str, Any] = response.json()
        return ticket

    async def move(self, ticket_id: str, to: str, **extra: Any) -> dict[str, Any]:
        response = await self.world.client.post(
            f"/v1/tickets/{ticket_id}/transitions", json={"to": to, **extra}, headers=self.staff
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def events(
        self, ticket_id: str, headers: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """The ticket's whole history as staff (or `headers`' caller) see it, every page."""
        events: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            response = await self.world.client.get(
                f"/v1/tickets/{ticket_id}/events",
                params={"limit": 100} | ({"cursor": cursor} if cursor else {}),
                headers=headers or self.staff,
            )
            assert response.status_code == 200, response.text
            page = response.json()
            events.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                return events


async def make_desk(world: World, *, city: str = "Quito", country: str = "EC") -> Desk:
    enterprise = await world.enterprise("Banco del Pacífico", country)
    service = await world.service(enterprise["id"], city=city, country=country)
    customer = await world.api_client(Role.customer_user, enterprise["id"])
    staff = await world.staff(Role.tsc_engineer)
    return Desk(world, enterprise, service, customer, staff)
