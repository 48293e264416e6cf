"""Network incidents: declare, link and unlink services and tickets, resolve. One transaction
each (resolving then walks the linked tickets to verification, one ticket move at a time).

An incident spans tenants: a caller sees one when a service or ticket of its enterprises is
linked, and sees only those of its own."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.errors import Problem, field_error
from app.core.idempotency import IdempotencyClaim
from app.core.pagination import Page, PageParams
from app.core.tenancy import Caller, visible_to
from app.core.workflow import Emit, Workflow
from app.models import Incident, IncidentService, IncidentTicket, Service, Ticket
from app.services.incidents.events import (
    IncidentDeclared,
    IncidentNotice,
    IncidentPayload,
    IncidentResolved,
)
from app.services.incidents.policy import MOVE_ROLES
from app.services.incidents.rules import (
    INCIDENT_TRANSITIONS,
    IncidentStatus,
    incident_number,
    shortest_path,
)
from app.services.incidents.schemas import IncidentCreate, IncidentRead, IncidentResolve
from app.services.incidents.schemas import IncidentService as ServiceRef
from app.services.incidents.schemas import IncidentTicket as TicketRef
from app.services.tickets.rules import FINAL_STAGES, Stage, Status, next_stages
from app.services.tickets.schemas import ResumeIn, TransitionIn
from app.services.tickets.service import move_ticket, resume_ticket

logger = logging.getLogger("carrierdesk.incidents")


def visible_incidents(caller: Caller) -> ColumnElement[bool]:
    """A caller sees an incident linking a service or a ticket of its enterprises."""
    by_service = visible_to(
        select(IncidentService.incident_id), caller, IncidentService.enterprise_id
    )
    by_ticket = visible_to(select(IncidentTicket.incident_id), caller, IncidentTicket.enterprise_id)
    return or_(Incident.id.in_(by_service), Incident.id.in_(by_ticket))


@dataclass
class Affected:
    """What an incident links of one enterprise."""

    services: list[ServiceRef] = field(default_factory=list)
    tickets: list[TicketRef] = field(default_factory=list)


async def affected(
    session: AsyncSession, caller: Caller, incident_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[uuid.UUID, Affected]]:
    """incident -> enterprise -> its linked services and tickets, as far as `caller` sees."""
    found: dict[uuid.UUID, dict[uuid.UUID, Affected]] = defaultdict(lambda: defaultdict(Affected))
    if not incident_ids:
        return found
    services = visible_to(
        select(IncidentService.incident_id, Service.id, Service.code, Service.enterprise_id)
        .join(
            Service,
            and_(
                Service.enterprise_id == IncidentService.enterprise_id,
                Service.id == IncidentService.service_id,
            ),
        )
        .where(IncidentService.incident_id.in_(incident_ids))
        .order_by(Service.code),
        caller,
        IncidentService.enterprise_id,
    )
    for incident_id, service_id, code, enterprise_id in (await session.execute(services)).all():
        found[incident_id][enterprise_id].services.append(
            ServiceRef(id=service_id, code=code, enterprise_id=enterprise_id)
        )
    tickets = visible_to(
        select(IncidentTicket.incident_id, Ticket.id, Ticket.number, Ticket.enterprise_id)
        .join(
            Ticket,
            and_(
                Ticket.enterprise_id == IncidentTicket.enterprise_id,
                Ticket.id == IncidentTicket.ticket_id,
            ),
        )
        .where(IncidentTicket.incident_id.in_(incident_ids))
        .order_by(Ticket.number),
        caller,
        IncidentTicket.enterprise_id,
    )
    for incident_id, ticket_id, number, enterprise_id in (await session.execute(tickets)).all():
        found[incident_id][enterprise_id].tickets.append(
            TicketRef(id=ticket_id, number=number, enterprise_id=enterprise_id)
        )
    return found


def incident_read(row: Incident, per_enterprise: dict[uuid.UUID, Affected]) -> IncidentRead:
    parts = [per_enterprise[e] for e in sorted(per_enterprise, key=str)]
    return IncidentRead.model_validate(
        {
            **{c: getattr(row, c) for c in IncidentRead.model_fields if hasattr(row, c)},
            "services": [s for p in parts for s in p.services],
            "tickets": [t for p in parts for t in p.tickets],
        }
    )


async def _reads(
    session: AsyncSession, caller: Caller, rows: Sequence[Incident]
) -> list[IncidentRead]:
    found = await affected(session, caller, [r.id for r in rows])
    return [incident_read(r, found[r.id]) for r in rows]


INCIDENTS: Workflow[Incident, IncidentStatus, IncidentRead] = Workflow(
    model=Incident,
    subject_type=IncidentPayload.subject_type,
    moves=INCIDENT_TRANSITIONS,
    roles=MOVE_ROLES,
    reads=_reads,
    scope=visible_incidents,
)


def notices(
    notice: type[IncidentNotice],
    row: Incident,
    per_enterprise: dict[uuid.UUID, Affected],
    **extra: Any,
) -> list[Emit]:
    """One notice per affected enterprise, naming only its own services and tickets."""
    return [
        Emit(
            notice(
                number=row.number,
                summary=row.summary,
                severity=row.severity,
                impact=row.impact,
                status=row.status,
                started_at=row.started_at,
                expected_end_at=row.expected_end_at,
                service_ids=[s.id for s in part.services],
                service_codes=[s.code for s in part.services],
                ticket_ids=[t.id for t in part.tickets],
                ticket_numbers=[t.number for t in part.tickets],
                **extra,
            ),
            enterprise_id,
        )
        for enterprise_id, part in sorted(per_enterprise.items(), key=lambda kv: str(kv[0]))
    ]


async def find_services(
    session: AsyncSession, caller: Caller, ids: list[uuid.UUID]
) -> list[Service]:
    stmt = visible_to(select(Service), caller, Service.enterprise_id).where(Service.id.in_(ids))
    found = {s.id: s for s in (await session.execute(stmt)).scalars().all()}
    missing = [str(i) for i in dict.fromkeys(ids) if i not in found]
    if missing:
        raise field_error("service_ids", f"no such service {missing[0]}")
    return [found[i] for i in dict.fromkeys(ids)]


async def find_tickets(session: AsyncSession, caller: Caller, ids: list[uuid.UUID]) -> list[Ticket]:
    stmt = visible_to(select(Ticket), caller, Ticket.enterprise_id).where(Ticket.id.in_(ids))
    found = {t.id: t for t in (await session.execute(stmt)).scalars().all()}
    missing = [str(i) for i in dict.fromkeys(ids) if i not in found]
    if missing:
        raise field_error("ticket_ids", f"no such ticket {missing[0]}")
    return [found[i] for i in dict.fromkeys(ids)]


async def declare_incident(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    claim: IdempotencyClaim | None,
    payload: IncidentCreate,
) -> IncidentRead:
    """Declare an incident over services (and tickets already open about it): each affected
    enterprise is told, with its own services and tickets only."""
    now = clock.now()
    services = await find_services(session, caller, payload.service_ids)
    tickets = await find_tickets(session, caller, payload.ticket_ids)
    if payload.started_at is not None and payload.started_at > now:
        raise field_error("started_at", "must not be in the future")
    seq = (await session.execute(select(func.nextval(text("'incident_number_seq'"))))).scalar_one()
    row = Incident(
        id=uuid.uuid4(),
        number=incident_number(now.year, seq),
        summary=payload.summary,
        description=payload.description,
        severity=payload.severity.value,
        impact=payload.impact.value,
        status=IncidentStatus.open.value,
        started_at=payload.started_at or now,
        expected_end_at=payload.expected_end_at,
        declared_by=caller.actor,
    )
    parts: list[Any] = [
        IncidentService(
            incident_id=row.id, service_id=s.id, enterprise_id=s.enterprise_id, linked_at=now
        )
        for s in services
    ]
    parts += [
        IncidentTicket(
            incident_id=row.id, ticket_id=t.id, enterprise_id=t.enterprise_id, linked_at=now
        )
        for t in tickets
    ]
    per: dict[uuid.UUID, Affected] = defaultdict(Affected)
    for s in services:
        per[s.enterprise_id].services.append(
            ServiceRef(id=s.id, code=s.code, enterprise_id=s.enterprise_id)
        )
    for t in tickets:
        per[t.enterprise_id].tickets.append(
            TicketRef(id=t.id, number=t.number, enterprise_id=t.enterprise_id)
        )
    declared = notices(IncidentDeclared, row, per)
    return await INCIDENTS.create(session, caller, claim, row, now, declared, parts=parts)


async def list_incidents(
    session: AsyncSession, caller: Caller, params: PageParams, status: IncidentStatus | None
) -> Page[IncidentRead]:
    return await INCIDENTS.page(session, caller, params, status=status)


async def get_incident(
    session: AsyncSession, caller: Caller, incident_id: uuid.UUID
) -> IncidentRead:
    return await INCIDENTS.get(session, caller, incident_id)


async def resolve_incident(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    incident_id: uuid.UUID,
    payload: IncidentResolve,
    if_match: str | None = None,
) -> IncidentRead:
    """Resolve the incident (every affected enterprise is told), then move each linked ticket
    still before verification there, with a note: the customer verifies its own service."""

    async def resolve(
        session: AsyncSession, row: Incident, before: IncidentStatus, now: datetime
    ) -> list[Emit]:
        row.resolved_at = now
        row.resolution = payload.resolution
        per = (await affected(session, caller, [row.id]))[row.id]
        return notices(IncidentResolved, row, per, resolution=payload.resolution)

    step = INCIDENTS.step(IncidentStatus.resolved, doing="resolve network incidents", hook=resolve)
    answer = await INCIDENTS.advance(session, caller, clock, incident_id, step, if_match)
    await _tickets_to_verification(session, caller, clock, answer)
    return await INCIDENTS.get(session, caller, incident_id)


def _path_to_verification(stage: Stage) -> list[str]:
    """The forward moves taking a ticket to verification; none from verification on."""
    if stage in FINAL_STAGES or stage in (Stage.verification, Stage.stability, Stage.closure):
        return []
    return shortest_path(
        stage.value,
        Stage.verification.value,
        lambda s: [n.value for n in next_stages(Stage(s))],
        avoid=[s.value for s in FINAL_STAGES],
    )


async def _tickets_to_verification(
    session: AsyncSession, caller: Caller, clock: Clock, incident: IncidentRead
) -> None:
    """Each ticket is its own transaction (its clocks end and start as on any move); one that
    cannot move (closed meanwhile, say) is logged and left as it is."""
    note = f"Network incident {incident.number} is resolved: {incident.resolution}"
    stmt = visible_to(select(Ticket.id, Ticket.stage, Ticket.status), caller, Ticket.enterprise_id)
    rows = (
        await session.execute(stmt.where(Ticket.id.in_([t.id for t in incident.tickets])))
    ).all()
    for ticket_id, stage, status in rows:
        path = [Stage(s) for s in _path_to_verification(Stage(stage))]
        if not path:
            continue
        try:
            if status == Status.waiting_for_customer.value:
                await resume_ticket(session, caller, clock, ticket_id, ResumeIn(note=note))
            for step in path:
                last = step is Stage.verification
                text_ = note if last else f"Worked as part of network incident {incident.number}"
                await move_ticket(
                    session, caller, clock, ticket_id, TransitionIn(to=step, note=text_)
                )
        except Problem as exc:
            await session.rollback()
            logger.warning("incident %s: ticket %s not moved: %s", incident.number, ticket_id, exc)


async def incidents_of_tickets(
    session: AsyncSession, caller: Caller, ticket_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[uuid.UUID, str]]]:
    """ticket -> the incidents it is worked under, (id, number): for the carriers' faces."""
    if not ticket_ids:
        return {}
    stmt = visible_to(
        select(IncidentTicket.ticket_id, Incident.id, Incident.number)
        .join(Incident, Incident.id == IncidentTicket.incident_id)
        .where(IncidentTicket.ticket_id.in_(ticket_ids))
        .order_by(Incident.number),
        caller,
        IncidentTicket.enterprise_id,
    )
    found: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = defaultdict(list)
    for ticket_id, incident_id, number in (await session.execute(stmt)).all():
        found[ticket_id].append((incident_id, number))
    return found
