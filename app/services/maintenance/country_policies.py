"""Each country's maintenance window and notice period (defaults until a country is edited)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.countries import COUNTRY_CODES
from app.core.errors import Unprocessable, field_error
from app.core.time_bounds import span_problem
from app.models import MaintenancePolicy as PolicyRow
from app.models import Service
from app.services.calendars.service import zone_of
from app.services.maintenance.rules import MaintenanceKind, MaintenancePolicy, check_standard_work
from app.services.maintenance.schemas import MaintenancePolicyRead, MaintenancePolicyUpdate


def _country(code: str) -> str:
    if code.upper() not in COUNTRY_CODES:
        raise field_error("country", f"{code} is not an ISO 3166-1 alpha-2 country code")
    return code.upper()


async def policy_for(session: AsyncSession, country: str) -> MaintenancePolicy:
    row = (
        await session.execute(select(PolicyRow).where(PolicyRow.country == country.upper()))
    ).scalar_one_or_none()
    if row is None:
        return MaintenancePolicy(country=country.upper())
    return MaintenancePolicy(
        country=row.country,
        window_start=row.window_start,
        window_end=row.window_end,
        notice_days=row.notice_days,
    )


def _read(policy: MaintenancePolicy) -> MaintenancePolicyRead:
    return MaintenancePolicyRead.model_validate(policy)


async def get_policy(session: AsyncSession, country: str) -> MaintenancePolicyRead:
    return _read(await policy_for(session, _country(country)))


async def put_policy(
    session: AsyncSession, clock: Clock, country: str, payload: MaintenancePolicyUpdate
) -> MaintenancePolicyRead:
    code = _country(country)
    values = {
        "window_start": payload.window_start,
        "window_end": payload.window_end,
        "notice_days": payload.notice_days,
        "updated_at": clock.now(),
    }
    stmt = (
        insert(PolicyRow)
        .values(country=code, **values)
        .on_conflict_do_update(index_elements=[PolicyRow.country], set_=values)
    )
    await session.execute(stmt)
    await session.commit()
    return _read(await policy_for(session, code))


async def check_rules(
    session: AsyncSession,
    kind: MaintenanceKind,
    start: datetime,
    end: datetime,
    services: list[Service],
    now: datetime,
) -> None:
    """Standard work keeps to each site country's window and notice period; 422 naming which."""
    span = span_problem(start, end, now)
    if span is not None:
        raise field_error(*span)
    if kind is MaintenanceKind.emergency:
        return
    sites: list[tuple[MaintenancePolicy, ZoneInfo]] = []
    for country in sorted({s.site_country for s in services}):
        sites.append((await policy_for(session, country), await zone_of(session, country)))
    broken = check_standard_work(start, end, now, sites)
    if broken:
        rules = sorted({b.rule for b in broken})
        named = " and the ".join(r.replace("_", " ") for r in rules)
        raise Unprocessable(
            f"standard maintenance breaks the {named} (emergency work is exempt)",
            errors=[{"field": b.field, "rule": b.rule, "message": b.message} for b in broken],
            rules=rules,
        )
