"""Sonata's `incident`: Carrier Desk's network incidents, wholesale face. A buyer sees the
incidents affecting its products, each with its own products and tickets only."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound, field_error
from app.core.tenancy import Caller, visible_to
from app.models import Enterprise, Incident, IncidentService
from app.services.directory.service import support_lines
from app.services.incidents.service import affected, visible_incidents
from app.services.sonata.reads import date_filter, href, path_id
from app.services.sonata.rules import (
    INCIDENT_IMPACT,
    INCIDENT_STATUS,
    INCIDENT_TYPE,
    SELLER_PRIORITY,
    SELLER_SEVERITY,
)
from app.services.sonata.schemas import SonataIncident


async def seller_contact(session: AsyncSession, caller: Caller) -> dict[str, Any]:
    """Whom the buyer calls about an incident: the Technical Service Center's line of its
    country (the handbook's directory). The handbook gives the TSC no mailbox: `emailAddress`
    stays empty, as it does for staff, who call no one."""
    number = ""
    if len(caller.enterprise_ids) == 1 and not caller.is_provider:
        enterprise_id = next(iter(caller.enterprise_ids))
        stmt = visible_to(select(Enterprise.country), caller, Enterprise.id)
        country = (await session.execute(stmt.where(Enterprise.id == enterprise_id))).scalar()
        lines = await support_lines(session, country) if country else []
        phones = [p for line in lines for p in [line.toll_free, *line.local] if p is not None]
        if phones:
            number = phones[0].e164 or phones[0].display
    return {
        "name": "Technical Service Center",
        "emailAddress": "",
        "number": number,
        "role": "sellerContact",
    }


INCIDENT_FILTERS = (
    "priority",
    "severity",
    "impact",
    "incidentType",
    "status",
    "relatedEntityId",
    "relatedEntityType",
    "creationDate.gt",
    "creationDate.lt",
    "situationStartDate.gt",
    "situationStartDate.lt",
    "expectedClosedDate.gt",
    "expectedClosedDate.lt",
    "closedDate.gt",
    "closedDate.lt",
)


def _of_buyer(caller: Caller, buyer: uuid.UUID | None) -> list[ColumnElement[bool]]:
    """A caller acting for several enterprises narrows to the one `buyerId` names."""
    if buyer is None:
        return []
    mine = visible_to(
        select(IncidentService.incident_id), caller, IncidentService.enterprise_id
    ).where(IncidentService.enterprise_id == buyer)
    return [Incident.id.in_(mine)]


def _mapped(column: Any, table: dict[Any, Any]) -> ColumnElement[Any]:
    return case({k: v.value for k, v in table.items()}, value=column)


_ATTRIBUTES: dict[str, ColumnElement[Any]] = {
    "severity": _mapped(Incident.severity, SELLER_SEVERITY),
    "priority": _mapped(Incident.severity, SELLER_PRIORITY),
    "impact": _mapped(Incident.impact, INCIDENT_IMPACT),
    "status": _mapped(Incident.status, INCIDENT_STATUS),
}
_DATES: dict[str, Any] = {
    "creationDate": Incident.created_at,
    "situationStartDate": Incident.started_at,
    "expectedClosedDate": Incident.expected_end_at,
    "closedDate": Incident.resolved_at,
}


def _filter(name: str, value: Any, caller: Caller) -> ColumnElement[bool]:
    if name in _ATTRIBUTES:
        return _ATTRIBUTES[name] == str(value)
    field, _, op = name.partition(".")
    if field in _DATES and op in ("gt", "lt"):
        return date_filter(_DATES[field], name, value)
    if name == "incidentType":
        return Incident.id.is_not(None) if value == INCIDENT_TYPE else Incident.id.is_(None)
    if name == "relatedEntityType":
        return Incident.id.is_not(None) if value == "Product" else Incident.id.is_(None)
    if name == "relatedEntityId":
        try:
            product = uuid.UUID(str(value))
        except ValueError:
            return Incident.id.is_(None)
        mine = visible_to(
            select(IncidentService.incident_id), caller, IncidentService.enterprise_id
        ).where(IncidentService.service_id == product)
        return Incident.id.in_(mine)
    raise field_error(name, "not a filter of this face")


def represent(
    row: Incident, per_enterprise: dict[uuid.UUID, Any], contact: dict[str, Any]
) -> dict[str, Any]:
    parts = [per_enterprise[e] for e in sorted(per_enterprise, key=str)]
    severity = row.severity
    changes = [{"status": INCIDENT_STATUS["open"], "changeDate": row.created_at}]
    if row.resolved_at is not None:
        changes.append(
            {
                "status": INCIDENT_STATUS["resolved"],
                "changeDate": row.resolved_at,
                "changeReason": row.resolution,
            }
        )
    incident = {
        "id": str(row.id),
        "href": href("incident", row.id),
        "description": f"{row.number}: {row.summary}"
        + (f"\n\n{row.description}" if row.description else ""),
        "status": INCIDENT_STATUS[row.status],
        "severity": SELLER_SEVERITY[severity],
        "priority": SELLER_PRIORITY[severity],
        "impact": INCIDENT_IMPACT[row.impact],
        "incidentType": INCIDENT_TYPE,
        "creationDate": row.created_at,
        "situationStartDate": row.started_at,
        "expectedClosedDate": row.expected_end_at,
        "closedDate": row.resolved_at,
        "relatedEntity": [
            {"id": str(s.id), "role": "affectedProduct", "@referredType": "Product"}
            for p in parts
            for s in p.services
        ],
        "relatedIssue": [
            {
                "id": str(t.id),
                "href": href("troubleTicket", t.id),
                "@referredType": "TroubleTicket",
                "relationshipType": "causes",
                "source": "seller",
            }
            for p in parts
            for t in p.tickets
        ],
        "relatedContactInformation": [contact],
        "statusChange": [
            {
                k: (v.isoformat().replace("+00:00", "Z") if hasattr(v, "isoformat") else v)
                for k, v in c.items()
            }
            for c in changes
        ],
    }
    return SonataIncident.model_validate(incident).model_dump(
        mode="json", by_alias=True, exclude_none=True
    )


async def list_incidents(
    session: AsyncSession,
    caller: Caller,
    filters: dict[str, Any],
    buyer: uuid.UUID | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    stmt = select(Incident).where(
        visible_incidents(caller),
        *_of_buyer(caller, buyer),
        *[_filter(k, v, caller) for k, v in filters.items()],
    )
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (
        (
            await session.execute(
                stmt.order_by(Incident.created_at, Incident.number).offset(offset).limit(limit)
            )
        )
        .scalars()
        .all()
    )
    found = await affected(session, caller, [r.id for r in rows])
    contact = await seller_contact(session, caller)
    return [represent(r, found[r.id], contact) for r in rows], int(total)


async def get_incident(
    session: AsyncSession, caller: Caller, incident_id: str, buyer: uuid.UUID | None = None
) -> dict[str, Any]:
    key = path_id(incident_id, "incident")
    stmt = select(Incident).where(
        Incident.id == key, visible_incidents(caller), *_of_buyer(caller, buyer)
    )
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"incident {incident_id} not found")
    found = await affected(session, caller, [row.id])
    return represent(row, found[row.id], await seller_contact(session, caller))
