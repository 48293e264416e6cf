"""Use cases of planned maintenance (GCR): announce, update, cancel, acknowledge, read."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.errors import Conflict, field_error
from app.core.idempotency import IdempotencyClaim
from app.core.pagination import Page, PageParams
from app.core.tenancy import Caller, visible_to
from app.core.workflow import Emit, Workflow, record_all
from app.models import Maintenance, MaintenanceImpact, Service
from app.services.maintenance.country_policies import check_rules
from app.services.maintenance.events import (
    MaintenanceAcknowledged,
    MaintenanceAnnounced,
    MaintenanceCancelled,
    MaintenanceNotice,
    MaintenancePayload,
    MaintenanceUpdated,
)
from app.services.maintenance.policy import MOVE_ROLES, ROLES
from app.services.maintenance.rules import (
    MAINTENANCE_TRANSITIONS,
    ExpectedImpact,
    MaintenanceKind,
    MaintenanceStatus,
    gcr_number,
)
from app.services.maintenance.schemas import (
    MaintenanceCancel,
    MaintenanceCreate,
    MaintenanceRead,
    MaintenanceUpdate,
)


def maintenance_read(row: Maintenance, impacts: list[MaintenanceImpact]) -> MaintenanceRead:
    """`impacts` are those the caller may see: a customer learns nothing of other tenants."""
    service_ids = [s for i in impacts for s in i.service_ids]
    acks = [i.acknowledged_at for i in impacts if i.acknowledged_at is not None]
    return MaintenanceRead(
        id=row.id,
        gcr_number=row.gcr_number,
        kind=MaintenanceKind(row.kind),
        emergency=row.kind == MaintenanceKind.emergency.value,
        status=MaintenanceStatus(row.status),
        start=row.start,
        end=row.end,
        reason=row.reason,
        expected_impact=ExpectedImpact(row.expected_impact),
        impacted_service_ids=sorted(service_ids, key=str),
        impacted_enterprise_ids=sorted((i.enterprise_id for i in impacts), key=str),
        acknowledged_at=max(acks) if acks and len(acks) == len(impacts) else None,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _impacts(
    session: AsyncSession, caller: Caller | None, ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[MaintenanceImpact]]:
    stmt = select(MaintenanceImpact).where(MaintenanceImpact.maintenance_id.in_(ids))
    if caller is not None:
        stmt = visible_to(stmt, caller, MaintenanceImpact.enterprise_id)
    grouped: dict[uuid.UUID, list[MaintenanceImpact]] = defaultdict(list)
    for impact in (await session.execute(stmt)).scalars().all():
        grouped[impact.maintenance_id].append(impact)
    return grouped


def _visible(caller: Caller) -> ColumnElement[bool]:
    """A GCR spans tenants: a caller sees those impacting one of its enterprises."""
    impacted = visible_to(
        select(MaintenanceImpact.maintenance_id), caller, MaintenanceImpact.enterprise_id
    )
    return Maintenance.id.in_(impacted)


async def _reads(
    session: AsyncSession, caller: Caller, rows: Sequence[Maintenance]
) -> list[MaintenanceRead]:
    impacts = await _impacts(session, caller, [r.id for r in rows])
    return [maintenance_read(r, impacts[r.id]) for r in rows]


MAINTENANCE: Workflow[Maintenance, MaintenanceStatus, MaintenanceRead] = Workflow(
    model=Maintenance,
    subject_type=MaintenancePayload.subject_type,
    moves=MAINTENANCE_TRANSITIONS,
    roles=MOVE_ROLES,
    reads=_reads,
    scope=_visible,
)


async def _services(session: AsyncSession, ids: list[uuid.UUID]) -> list[Service]:
    found = {
        s.id: s
        for s in (await session.execute(select(Service).where(Service.id.in_(ids)))).scalars().all()
    }
    missing = [str(i) for i in dict.fromkeys(ids) if i not in found]
    if missing:
        raise field_error("impacted_service_ids", f"no such service {missing[0]}")
    return [found[i] for i in dict.fromkeys(ids)]


async def _codes(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = await session.execute(select(Service.id, Service.code).where(Service.id.in_(ids)))
    return {service_id: code for service_id, code in rows.tuples()}


def _by_enterprise(services: list[Service]) -> dict[uuid.UUID, list[uuid.UUID]]:
    grouped: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for s in services:
        grouped[s.enterprise_id].append(s.id)
    return grouped


def _notices(
    notice: type[MaintenanceNotice],
    row: Maintenance,
    per_enterprise: dict[uuid.UUID, list[uuid.UUID]],
    codes: dict[uuid.UUID, str],
    **extra: Any,
) -> list[Emit]:
    """One notice per impacted enterprise: delivery mails each enterprise's own contacts."""
    fields: dict[str, Any] = {
        "gcr_number": row.gcr_number,
        "kind": row.kind,
        "emergency": row.kind == MaintenanceKind.emergency.value,
        "status": row.status,
        "start": row.start,
        "end": row.end,
        "expected_impact": row.expected_impact,
        "reason": row.reason,
    }
    return [
        Emit(
            notice(
                **{**fields, **extra},
                service_ids=service_ids,
                service_codes=[codes[s] for s in service_ids if s in codes],
            ),
            enterprise_id,
        )
        for enterprise_id, service_ids in sorted(per_enterprise.items(), key=lambda kv: str(kv[0]))
    ]


async def create_maintenance(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    claim: IdempotencyClaim | None,
    payload: MaintenanceCreate,
) -> MaintenanceRead:
    now = clock.now()
    services = await _services(session, payload.impacted_service_ids)
    await check_rules(session, payload.kind, payload.start, payload.end, services, now)
    number = payload.gcr_number
    if number is None:
        seq = (await session.execute(select(func.nextval(text("'gcr_number_seq'"))))).scalar_one()
        number = gcr_number(now.year, seq)
    taken = (
        await session.execute(select(Maintenance.id).where(Maintenance.gcr_number == number))
    ).scalar_one_or_none()
    if taken is not None:
        raise Conflict(f"GCR {number} already exists", existing_id=str(taken))
    row = Maintenance(
        id=uuid.uuid4(),
        gcr_number=number,
        kind=payload.kind.value,
        status=MaintenanceStatus.announced.value,
        start=payload.start,
        end=payload.end,
        reason=payload.reason,
        expected_impact=payload.expected_impact.value,
        impacted_service_ids=[s.id for s in services],
        created_by=caller.actor,
    )
    grouped = _by_enterprise(services)
    impacts = [
        MaintenanceImpact(maintenance_id=row.id, enterprise_id=eid, service_ids=ids)
        for eid, ids in grouped.items()
    ]
    codes = {s.id: s.code for s in services}
    notices = _notices(MaintenanceAnnounced, row, grouped, codes)
    return await MAINTENANCE.create(session, caller, claim, row, now, notices, parts=impacts)


async def list_maintenances(
    session: AsyncSession,
    caller: Caller,
    params: PageParams,
    status: MaintenanceStatus | None,
    starts_after: datetime | None,
) -> Page[MaintenanceRead]:
    where = [] if starts_after is None else [Maintenance.start >= starts_after]
    return await MAINTENANCE.page(session, caller, params, *where, status=status)


async def update_maintenance(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    maintenance_id: uuid.UUID,
    payload: MaintenanceUpdate,
    if_match: str | None,
) -> MaintenanceRead:
    """An edit keeps the GCR announced: the enterprises it now touches are told (announced to
    newcomers, updated to the others) and those it no longer touches are released."""
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)

    async def edit(
        session: AsyncSession, row: Maintenance, before: MaintenanceStatus, now: datetime
    ) -> list[Emit]:
        kind = MaintenanceKind(changes.get("kind", row.kind))
        start, end = changes.get("start", row.start), changes.get("end", row.end)
        if end <= start:
            raise field_error("end", "must be after start")
        service_ids = changes.get("impacted_service_ids", list(row.impacted_service_ids))
        services = await _services(session, service_ids)
        if {"kind", "start", "end", "impacted_service_ids"} & changes.keys():
            await check_rules(session, kind, start, end, services, now)
        old_by = {i.enterprise_id: i for i in (await _impacts(session, None, [row.id]))[row.id]}
        row.kind, row.start, row.end = kind.value, start, end
        row.reason = changes.get("reason", row.reason)
        impact = changes.get("expected_impact")
        row.expected_impact = impact.value if impact is not None else row.expected_impact
        row.impacted_service_ids = [s.id for s in services]
        grouped = _by_enterprise(services)
        removed = {eid: old_by[eid].service_ids for eid in old_by if eid not in grouped}
        if removed:
            await session.execute(
                delete(MaintenanceImpact).where(
                    MaintenanceImpact.maintenance_id == row.id,
                    MaintenanceImpact.enterprise_id.in_(list(removed)),
                )
            )
        for eid, ids in grouped.items():
            kept = old_by.get(eid)
            if kept is None:
                kept = MaintenanceImpact(maintenance_id=row.id, enterprise_id=eid, service_ids=[])
                session.add(kept)
            kept.service_ids = ids
        await session.flush()
        codes = {s.id: s.code for s in services}
        newcomers = {e: ids for e, ids in grouped.items() if e not in old_by}
        stayers = {e: ids for e, ids in grouped.items() if e in old_by}
        released = "your services are no longer impacted by this GCR"
        return [
            *_notices(MaintenanceAnnounced, row, newcomers, codes),
            *_notices(MaintenanceUpdated, row, stayers, codes, changed=sorted(changes)),
            *_notices(MaintenanceCancelled, row, removed, codes, reason=released),
        ]

    step = MAINTENANCE.edit("be changed", ROLES["update"], doing="change maintenance", hook=edit)
    return await MAINTENANCE.advance(session, caller, clock, maintenance_id, step, if_match)


async def cancel_maintenance(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    maintenance_id: uuid.UUID,
    payload: MaintenanceCancel,
    if_match: str | None,
) -> MaintenanceRead:
    async def cancel(
        session: AsyncSession, row: Maintenance, before: MaintenanceStatus, now: datetime
    ) -> list[Emit]:
        row.cancel_reason = payload.reason
        impacts = (await _impacts(session, None, [row.id]))[row.id]
        codes = await _codes(session, list(row.impacted_service_ids))
        per = {i.enterprise_id: list(i.service_ids) for i in impacts}
        return _notices(MaintenanceCancelled, row, per, codes, reason=payload.reason)

    step = MAINTENANCE.step(MaintenanceStatus.cancelled, doing="cancel maintenance", hook=cancel)
    return await MAINTENANCE.advance(session, caller, clock, maintenance_id, step, if_match)


async def acknowledge(
    session: AsyncSession, caller: Caller, clock: Clock, maintenance_id: uuid.UUID
) -> MaintenanceRead:
    """A customer confirms it has seen the notice, for each of its impacted enterprises."""
    row = await MAINTENANCE.load(session, caller, maintenance_id)
    impacts = (await _impacts(session, caller, [row.id]))[row.id]
    now = clock.now()
    emits = []
    for impact in impacts:
        if impact.acknowledged_at is None:
            impact.acknowledged_at = now
            impact.acknowledged_by = caller.actor
            seen = MaintenanceAcknowledged(gcr_number=row.gcr_number)
            emits.append(Emit(seen, impact.enterprise_id))
    await record_all(session, caller, row.id, now, emits)
    answer = maintenance_read(row, impacts)
    await session.commit()
    return answer
