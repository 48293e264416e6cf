"""Linking and unlinking an incident's services and tickets: one transaction each. An
enterprise newly affected is told the incident is declared; the others, that it changed."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
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


Link = type[IncidentService] | type[IncidentTicket]


async def _link_of(
    session: AsyncSession, model: Link, key: Any, incident_id: uuid.UUID, linked_id: uuid.UUID
) -> Any:
    """The link between the incident and one service or ticket, if there is one (its enterprise
    is read from the row: the lookup is by the two ids alone)."""
    return (
        await session.execute(
            select(model).where(model.incident_id == incident_id, key == linked_id)
        )
    ).scalar_one_or_none()


def _linker(model: Link, key: Any, find: Any, label: str) -> Callable[[Caller, uuid.UUID], Relink]:
    def linker(caller: Caller, linked_id: uuid.UUID) -> Relink:
        async def link(session: AsyncSession, row: Incident, now: datetime) -> uuid.UUID:
            (target,) = await find(session, caller, [linked_id])
            if await _link_of(session, model, key, row.id, target.id) is not None:
                name = getattr(target, label)
                raise Conflict(
                    f"{key.key.removesuffix('_id')} {name} is already linked to {row.number}"
                )
            session.add(
                model(
                    incident_id=row.id,
                    enterprise_id=target.enterprise_id,
                    linked_at=now,
                    **{key.key: target.id},
                )
            )
            return uuid.UUID(str(target.enterprise_id))

        return link

    return linker


def _unlinker(model: Link, key: Any) -> Callable[[Caller, uuid.UUID], Relink]:
    def unlinker(caller: Caller, linked_id: uuid.UUID) -> Relink:
        async def unlink(session: AsyncSession, row: Incident, now: datetime) -> uuid.UUID:
            linked = await _link_of(session, model, key, row.id, linked_id)
            if linked is None:
                raise field_error(key.key, f"not linked to {row.number}")
            await session.execute(
                delete(model).where(
                    model.enterprise_id == linked.enterprise_id,
                    model.incident_id == row.id,
                    key == linked_id,
                )
            )
            return uuid.UUID(str(linked.enterprise_id))

        return unlink

    return unlinker


_CHANGES = {
    ("services", True): _linker(IncidentService, IncidentService.service_id, find_services, "code"),
    ("tickets", True): _linker(IncidentTicket, IncidentTicket.ticket_id, find_tickets, "number"),
    ("services", False): _unlinker(IncidentService, IncidentService.service_id),
    ("tickets", False): _unlinker(IncidentTicket, IncidentTicket.ticket_id),
}


async def change_link(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    incident_id: uuid.UUID,
    what: str,
    linked_id: uuid.UUID,
    *,
    link: bool,
    if_match: str | None = None,
) -> IncidentRead:
    """Link (`link=True`) or unlink one of the incident's `services` or `tickets`."""
    change = _CHANGES[(what, link)](caller, linked_id)
    return await _relink(session, caller, clock, incident_id, what, change, if_match)


def _one(what: str, *, link: bool) -> Callable[..., Awaitable[IncidentRead]]:
    async def change(
        session: AsyncSession,
        caller: Caller,
        clock: Clock,
        incident_id: uuid.UUID,
        linked_id: uuid.UUID,
        if_match: str | None = None,
    ) -> IncidentRead:
        return await change_link(
            session, caller, clock, incident_id, what, linked_id, link=link, if_match=if_match
        )

    return change


link_service = _one("services", link=True)
unlink_service = _one("services", link=False)
link_ticket = _one("tickets", link=True)
unlink_ticket = _one("tickets", link=False)
