"""Linking and unlinking an incident's services and tickets: one transaction each. An
enterprise newly affected is told the incident is declared; the others, that it changed."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.errors import Conflict, field_error
from app.core.tenancy import Caller
from app.core.workflow import Emit
from app.models import Incident, IncidentService, IncidentTicket
from app.services.incidents.events import IncidentDeclared, IncidentUpdated
from app.services.incidents.policy import ROLES
from app.services.incidents.rules import IncidentStatus
from app.services.incidents.schemas import IncidentRead
from app.services.incidents.service import (
    INCIDENTS,
    Affected,
    affected,
    find_services,
    find_tickets,
    notices,
)

Relink = Callable[[AsyncSession, Incident, datetime], Awaitable[uuid.UUID]]


async def _relink(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    incident_id: uuid.UUID,
    what: str,
    change: Relink,
    if_match: str | None,
) -> IncidentRead:
    """Change the incident's links (`change(session, row, now)` answers the enterprise whose
    link changed): it is told the incident is declared if it is newly affected, else updated."""

    async def relink(
        session: AsyncSession, row: Incident, before: IncidentStatus, now: datetime
    ) -> list[Emit]:
        earlier = (await affected(session, caller, [row.id]))[row.id]
        was = {e for e, part in earlier.items() if part.services or part.tickets}
        touched: uuid.UUID = await change(session, row, now)
        await session.flush()
        now_affected = (await affected(session, caller, [row.id]))[row.id]
        part = {touched: now_affected.get(touched, Affected())}
        if touched in was:
            return notices(IncidentUpdated, row, part, changed=[what])
        return notices(IncidentDeclared, row, part)

    step = INCIDENTS.edit(f"change its {what}", ROLES["link"], doing="link incidents", hook=relink)
    return await INCIDENTS.advance(session, caller, clock, incident_id, step, if_match)


async def link_service(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    incident_id: uuid.UUID,
    service_id: uuid.UUID,
    if_match: str | None = None,
) -> IncidentRead:
    async def link(session: AsyncSession, row: Incident, now: datetime) -> uuid.UUID:
        (service,) = await find_services(session, caller, [service_id])
        linked = await session.get(IncidentService, (row.id, service.id))
        if linked is not None:
            raise Conflict(f"service {service.code} is already linked to {row.number}")
        session.add(
            IncidentService(
                incident_id=row.id,
                service_id=service.id,
                enterprise_id=service.enterprise_id,
                linked_at=now,
            )
        )
        return service.enterprise_id

    return await _relink(session, caller, clock, incident_id, "services", link, if_match)


async def unlink_service(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    incident_id: uuid.UUID,
    service_id: uuid.UUID,
    if_match: str | None = None,
) -> IncidentRead:
    async def unlink(session: AsyncSession, row: Incident, now: datetime) -> uuid.UUID:
        linked = await session.get(IncidentService, (row.id, service_id))
        if linked is None:
            raise field_error("service_id", f"not linked to {row.number}")
        await session.execute(
            delete(IncidentService).where(
                IncidentService.incident_id == row.id, IncidentService.service_id == service_id
            )
        )
        return linked.enterprise_id

    return await _relink(session, caller, clock, incident_id, "services", unlink, if_match)


async def link_ticket(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    incident_id: uuid.UUID,
    ticket_id: uuid.UUID,
    if_match: str | None = None,
) -> IncidentRead:
    async def link(session: AsyncSession, row: Incident, now: datetime) -> uuid.UUID:
        (ticket,) = await find_tickets(session, caller, [ticket_id])
        if await session.get(IncidentTicket, (row.id, ticket.id)) is not None:
            raise Conflict(f"ticket {ticket.number} is already linked to {row.number}")
        session.add(
            IncidentTicket(
                incident_id=row.id,
                ticket_id=ticket.id,
                enterprise_id=ticket.enterprise_id,
                linked_at=now,
            )
        )
        return ticket.enterprise_id

    return await _relink(session, caller, clock, incident_id, "tickets", link, if_match)


async def unlink_ticket(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    incident_id: uuid.UUID,
    ticket_id: uuid.UUID,
    if_match: str | None = None,
) -> IncidentRead:
    async def unlink(session: AsyncSession, row: Incident, now: datetime) -> uuid.UUID:
        linked = await session.get(IncidentTicket, (row.id, ticket_id))
        if linked is None:
            raise field_error("ticket_id", f"not linked to {row.number}")
        await session.execute(
            delete(IncidentTicket).where(
                IncidentTicket.incident_id == row.id, IncidentTicket.ticket_id == ticket_id
            )
        )
        return linked.enterprise_id

    return await _relink(session, caller, clock, incident_id, "tickets", unlink, if_match)
