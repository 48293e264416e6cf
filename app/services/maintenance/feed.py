"""The maintenance calendar as RFC 5545 iCalendar: one VEVENT per GCR.

A calendar app cannot send a bearer token, so each enterprise has a secret
feed URL (`/v1/maintenances.ics?feed=<secret>`); a bearer token works too.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.deps import refuse_unless
from app.core.errors import NotFound, Unauthorized
from app.core.tenancy import Caller, visible_to
from app.models import Enterprise, Maintenance, MaintenanceFeed, MaintenanceImpact
from app.services.identity.authentication import resolve_caller
from app.services.maintenance.policy import ROLES
from app.services.maintenance.schemas import MaintenanceFeedRead

FEED_PATH = "/v1/maintenances.ics"

UID_DOMAIN = "carrierdesk"


def _url(public_url: str, secret: str) -> str:
    return f"{public_url.rstrip('/')}{FEED_PATH}?feed={secret}"


async def _enterprise(session: AsyncSession, caller: Caller, enterprise_id: uuid.UUID) -> None:
    found = (
        await session.execute(
            visible_to(select(Enterprise.id), caller, Enterprise.id).where(
                Enterprise.id == enterprise_id
            )
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"enterprise {enterprise_id} not found")


async def feed_of(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    enterprise_id: uuid.UUID,
    public_url: str,
    *,
    rotate: bool = False,
) -> MaintenanceFeedRead:
    """The enterprise's secret feed URL, made on first request; `rotate` replaces it."""
    await _enterprise(session, caller, enterprise_id)
    row = (
        await session.execute(
            select(MaintenanceFeed).where(MaintenanceFeed.enterprise_id == enterprise_id)
        )
    ).scalar_one_or_none()
    if row is None:
        row = MaintenanceFeed(
            enterprise_id=enterprise_id,
            secret=secrets.token_urlsafe(32),
            created_at=clock.now(),
        )
        session.add(row)
    elif rotate:
        row.secret = secrets.token_urlsafe(32)
        row.created_at = clock.now()
    answer = MaintenanceFeedRead(enterprise_id=enterprise_id, url=_url(public_url, row.secret))
    await session.commit()
    return answer


async def _feed_enterprise(session: AsyncSession, secret: str) -> uuid.UUID:
    enterprise_id = (
        await session.execute(
            select(MaintenanceFeed.enterprise_id).where(MaintenanceFeed.secret == secret)
        )
    ).scalar_one_or_none()
    if enterprise_id is None:
        raise Unauthorized("this feed URL is not valid (it may have been rotated)")
    return enterprise_id


async def calendar(
    session: AsyncSession,
    now: datetime,
    token: str | None,
    secret: str | None,
) -> bytes:
    """The iCalendar of the maintenances the token's caller, or the feed's enterprise, sees."""
    stmt = select(Maintenance).order_by(Maintenance.start, Maintenance.id)
    if secret is not None:
        enterprise_id = await _feed_enterprise(session, secret)
        visible = select(MaintenanceImpact.maintenance_id).where(
            MaintenanceImpact.enterprise_id == enterprise_id
        )
        stmt = stmt.where(Maintenance.id.in_(visible))
        name = "Carrier Desk maintenance"
    elif token is not None:
        caller = await resolve_caller(session, token, now)
        # The route is open (the feed URL is its own secret); a bearer's role is asked here.
        refuse_unless(caller, ROLES["read"], "read maintenance")
        visible = visible_to(
            select(MaintenanceImpact.maintenance_id), caller, MaintenanceImpact.enterprise_id
        )
        stmt = stmt.where(Maintenance.id.in_(visible))
        name = "Carrier Desk maintenance"
    else:
        raise Unauthorized("send a bearer token, or use the feed URL shown on the enterprise")
    rows = (await session.execute(stmt)).scalars().all()
    return _ics(rows, now, name)


def _ics(rows: Sequence[Maintenance], now: datetime, name: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Carrier Desk//Maintenance calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for row in rows:
        event = Event()
        emergency = row.kind == "emergency"
        label = "Emergency maintenance" if emergency else "Planned maintenance"
        event.add("uid", f"{row.gcr_number}@{UID_DOMAIN}")
        event.add("summary", f"{row.gcr_number}: {label} ({row.expected_impact})")
        event.add("description", row.reason)
        event.add("dtstamp", now)
        event.add("dtstart", row.start)
        event.add("dtend", row.end)
        event.add("last-modified", row.updated_at)
        event.add("sequence", row.version - 1)
        event.add("status", "CANCELLED" if row.status == "cancelled" else "CONFIRMED")
        event.add("categories", ["MAINTENANCE", "EMERGENCY" if emergency else "STANDARD"])
        cal.add_component(event)
    data: bytes = cal.to_ical()
    return data
