"""The network incidents a TMF621 TroubleTicket is worked under, as its related entities.

Kept apart from `reads.py` so that the TMF representation stays one function: this adds to
what it built, in one query for a whole page."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.tenancy import Caller
from app.services.incidents.service import incidents_of_tickets


async def with_incidents(
    session: AsyncSession, caller: Caller, tickets: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each ticket showing `relatedEntity` gains the incidents it is linked to (role
    `networkIncident`, `@referredType` `Incident`, the incident's number as `name`)."""
    shown = [t for t in tickets if "relatedEntity" in t]
    found = await incidents_of_tickets(session, caller, [uuid.UUID(t["id"]) for t in shown])
    for ticket in shown:
        for incident_id, number in found.get(uuid.UUID(ticket["id"]), []):
            ticket["relatedEntity"].append(
                {
                    "id": str(incident_id),
                    "href": f"/v1/incidents/{incident_id}",
                    "name": number,
                    "role": "networkIncident",
                    "@referredType": "Incident",
                }
            )
    return tickets
