"""Use cases of planned maintenance (GCR): announce, update, cancel, acknowledge, read."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.errors import Conflict, Forbidden, NotFound, field_error
from app.core.etag import check_if_match
from app.core.events import EventRead, events_of, record_event
from app.core.idempotency import IdempotencyClaim, commit_creation
from app.core.pagination import Page, PageParams, keyset, page_of
from app.core.tenancy import Caller, visible_to
from app.models import Maintenance, MaintenanceImpact, Service
from app.services.maintenance.country_policies import check_rules
from app.services.maintenance.rules import (
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

SUBJECT = "maintenance"


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


def _visible_ids(caller: Caller) -> Any:
    return visible_to(
        select(MaintenanceImpact.maintenance_id), caller, MaintenanceImpact.enterprise_id
    )


async def _load(
    session: AsyncSession, caller: Caller, maintenance_id: uuid.UUID, *, lock: bool = False
) -> Maintenance:
    stmt = select(Maintenance).where(
        Maintenance.id == maintenance_id, Maintenance.id.in_(_visible_ids(caller))
    )
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"maintenance {maintenance_id} not found")
    return row


async def _services(session: AsyncSession, ids: list[uuid.UUID]) -> list[Service]:
    found = {
        s.id: s
        for s in (await session.execute(select(Service).where(Service.id.in_(ids)))).scalars().all()
    }
    missing = [str(i) for i in dict.fromkeys(ids) if i not in found]
    if missing:
        raise field_error("impacted_service_ids", f"no such service {missing[0]}")
    return [found[i] for i in dict.fromkeys(ids)]


def _by_enterprise(services: list[Service]) -> dict[uuid.UUID, list[Service]]:
    grouped: dict[uuid.UUID, list[Service]] = defaultdict(list)
    for s in services:
        grouped[s.enterprise_id].append(s)
    return grouped


async def _announce(
    session: AsyncSession,
    caller: Caller,
    row: Maintenance,
    type: str,
    now: datetime,
    per_enterprise: dict[uuid.UUID, list[uuid.UUID]],
    codes: dict[uuid.UUID, str],
    extra: dict[str, Any] | None = None,
) -> None:
    """One event per impacted enterprise: delivery mails each enterprise's own contacts."""
    for enterprise_id, service_ids in sorted(per_enterprise.items(), key=lambda kv: str(kv[0])):
        await record_event(
            session,
            subject_type=SUBJECT,
            subject_id=row.id,
            type=type,
            at=now,
            actor=caller.actor,
            enterprise_id=enterprise_id,
            data={
                "gcr_number": row.gcr_number,
                "kind": row.kind,
                "emergency": row.kind == MaintenanceKind.emergency.value,
                "status": row.status,
                "start": row.start.isoformat(),
                "end": row.end.isoformat(),
                "expected_impact": row.expected_impact,
                "reason": row.reason,
                "service_ids": [str(s) for s in service_ids],
                "service_codes": [codes[s] for s in service_ids if s in codes],
                **(extra or {}),
            },
        )


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
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(row)
    await session.flush()
    grouped = _by_enterprise(services)
    impacts = [
        MaintenanceImpact(
            maintenance_id=row.id, enterprise_id=eid, service_ids=[s.id for s in svcs]
        )
        for eid, svcs in grouped.items()
    ]
    session.add_all(impacts)
    await session.flush()
    codes = {s.id: s.code for s in services}
    per = {eid: [s.id for s in svcs] for eid, svcs in grouped.items()}
    await _announce(session, caller, row, "maintenance.announced", now, per, codes)
    answer = maintenance_read(row, impacts)
    await commit_creation(session, claim, answer)
    return answer


async def get_maintenance(
    session: AsyncSession, caller: Caller, maintenance_id: uuid.UUID
) -> MaintenanceRead:
    row = await _load(session, caller, maintenance_id)
    impacts = await _impacts(session, caller, [row.id])
    return maintenance_read(row, impacts[row.id])


async def list_maintenances(
    session: AsyncSession,
    caller: Caller,
    params: PageParams,
    status: MaintenanceStatus | None,
    starts_after: datetime | None,
) -> Page[MaintenanceRead]:
    stmt = select(Maintenance).where(Maintenance.id.in_(_visible_ids(caller)))
    if status is not None:
        stmt = stmt.where(Maintenance.status == status.value)
    if starts_after is not None:
        stmt = stmt.where(Maintenance.start >= starts_after)
    stmt = keyset(stmt, params, Maintenance.updated_at, Maintenance.id)
    rows = (await session.execute(stmt)).scalars().all()
    items, cursor = page_of(rows, params, lambda r: (r.updated_at, r.id))
    impacts = await _impacts(session, caller, [r.id for r in items])
    return Page(items=[maintenance_read(r, impacts[r.id]) for r in items], next_cursor=cursor)


async def update_maintenance(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    maintenance_id: uuid.UUID,
    payload: MaintenanceUpdate,
    if_match: str | None,
) -> MaintenanceRead:
    row = await _load(session, caller, maintenance_id, lock=True)
    if row.status == MaintenanceStatus.cancelled.value:
        raise Conflict(f"GCR {row.gcr_number} is cancelled")
    check_if_match(if_match, row.version)
    now = clock.now()
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    kind = MaintenanceKind(changes.get("kind", row.kind))
    start, end = changes.get("start", row.start), changes.get("end", row.end)
    if end <= start:
        raise field_error("end", "must be after start")
    service_ids = changes.get("impacted_service_ids", list(row.impacted_service_ids))
    services = await _services(session, service_ids)
    if {"kind", "start", "end", "impacted_service_ids"} & changes.keys():
        await check_rules(session, kind, start, end, services, now)
    old = await _impacts(session, None, [row.id])
    old_by = {i.enterprise_id: i for i in old[row.id]}
    row.kind, row.start, row.end = kind.value, start, end
    row.reason = changes.get("reason", row.reason)
    impact = changes.get("expected_impact")
    row.expected_impact = impact.value if impact is not None else row.expected_impact
    row.impacted_service_ids = [s.id for s in services]
    row.version += 1
    row.updated_at = now
    grouped = _by_enterprise(services)
    removed = {eid: old_by[eid].service_ids for eid in old_by if eid not in grouped}
    if removed:
        await session.execute(
            delete(MaintenanceImpact).where(
                MaintenanceImpact.maintenance_id == row.id,
                MaintenanceImpact.enterprise_id.in_(list(removed)),
            )
        )
    impacts = []
    for eid, svcs in grouped.items():
        existing = old_by.get(eid)
        if existing is None:
            existing = MaintenanceImpact(maintenance_id=row.id, enterprise_id=eid, service_ids=[])
            session.add(existing)
        existing.service_ids = [s.id for s in svcs]
        impacts.append(existing)
    await session.flush()
    codes = {s.id: s.code for s in services}
    per_new = {e: [s.id for s in v] for e, v in grouped.items() if e not in old_by}
    per_kept = {e: [s.id for s in v] for e, v in grouped.items() if e in old_by}
    fields = sorted(changes)
    await _announce(session, caller, row, "maintenance.announced", now, per_new, codes)
    await _announce(
        session, caller, row, "maintenance.updated", now, per_kept, codes, {"changed": fields}
    )
    await _announce(
        session,
        caller,
        row,
        "maintenance.cancelled",
        now,
        removed,
        codes,
        {"reason": "your services are no longer impacted by this GCR"},
    )
    visible = [i for i in impacts if caller.can_see(i.enterprise_id)]
    answer = maintenance_read(row, visible)
    await session.commit()
    return answer


async def cancel_maintenance(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    maintenance_id: uuid.UUID,
    payload: MaintenanceCancel,
    if_match: str | None,
) -> MaintenanceRead:
    row = await _load(session, caller, maintenance_id, lock=True)
    if row.status == MaintenanceStatus.cancelled.value:
        raise Conflict(f"GCR {row.gcr_number} is already cancelled")
    check_if_match(if_match, row.version)
    now = clock.now()
    row.status = MaintenanceStatus.cancelled.value
    row.cancel_reason = payload.reason
    row.version += 1
    row.updated_at = now
    impacts = (await _impacts(session, None, [row.id]))[row.id]
    codes = {
        s.id: s.code
        for s in (
            await session.execute(
                select(Service).where(Service.id.in_(list(row.impacted_service_ids)))
            )
        )
        .scalars()
        .all()
    }
    per = {i.enterprise_id: list(i.service_ids) for i in impacts}
    await _announce(
        session, caller, row, "maintenance.cancelled", now, per, codes, {"reason": payload.reason}
    )
    answer = maintenance_read(row, impacts)
    await session.commit()
    return answer


async def acknowledge(
    session: AsyncSession, caller: Caller, clock: Clock, maintenance_id: uuid.UUID
) -> MaintenanceRead:
    """A customer confirms it has seen the notice, for each of its impacted enterprises."""
    if caller.is_provider:
        raise Forbidden("the impacted customers acknowledge a maintenance notice")
    row = await _load(session, caller, maintenance_id)
    impacts = (await _impacts(session, caller, [row.id]))[row.id]
    now = clock.now()
    for impact in impacts:
        if impact.acknowledged_at is None:
            impact.acknowledged_at = now
            impact.acknowledged_by = caller.actor
            await record_event(
                session,
                subject_type=SUBJECT,
                subject_id=row.id,
                type="maintenance.acknowledged",
                at=now,
                actor=caller.actor,
                enterprise_id=impact.enterprise_id,
                data={"gcr_number": row.gcr_number},
            )
    answer = maintenance_read(row, impacts)
    await session.commit()
    return answer


async def maintenance_events(
    session: AsyncSession, caller: Caller, maintenance_id: uuid.UUID
) -> list[EventRead]:
    await _load(session, caller, maintenance_id)
    return await events_of(session, caller, SUBJECT, maintenance_id)
