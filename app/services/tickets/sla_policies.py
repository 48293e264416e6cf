"""SLA policies per country: the handbook's values seeded for every country, editable by admins.

Stored as seconds (null: no target); shown as ISO 8601 durations. A clock
keeps the target it started with, so a change applies to stages entered after it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.countries import COUNTRY_CODES
from app.core.errors import NotFound, field_error
from app.core.etag import check_if_match
from app.core.handbook import handbook
from app.core.tenancy import Caller, visible_to
from app.models import Enterprise, Service, SlaPolicy
from app.services.tickets.directory import city_tier
from app.services.tickets.rules import (
    POLICY_STAGES,
    CityTier,
    Policy,
    SlaTerms,
    Stage,
    format_duration,
    handbook_policy,
    parse_duration,
    sla_terms,
)
from app.services.tickets.schemas import (
    DispatchTargets,
    PolicyTargets,
    ServiceNaming,
    SlaPolicyBody,
    SlaPolicyRead,
)


def default_policy() -> Policy:
    """The handbook's `[incident_lifecycle]`, read from the data file (never retyped)."""
    return handbook_policy(handbook()["incident_lifecycle"])


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def policy_columns(policy: Policy) -> dict[str, Any]:
    return {
        "targets": {stage.value: _seconds(policy.targets.get(stage)) for stage in POLICY_STAGES},
        "dispatch": {tier.value: _seconds(policy.dispatch.get(tier)) for tier in CityTier},
        "warning_ratio": policy.warning_ratio,
        "escalation_ratios": list(policy.escalation_ratios),
    }


def policy_of(
    targets: dict[str, Any],
    dispatch: dict[str, Any],
    warning_ratio: float,
    escalation_ratios: list[float],
) -> Policy:
    def td(seconds: Any) -> timedelta | None:
        return None if seconds is None else timedelta(seconds=float(seconds))

    return Policy(
        targets={Stage(k): td(v) for k, v in targets.items()},
        dispatch={CityTier(k): td(v) for k, v in dispatch.items()},
        warning_ratio=warning_ratio,
        escalation_ratios=tuple(escalation_ratios),
    )


# A policy's text is its whole content: an edited policy is another key, never a stale answer.
# As many entries as countries, and then some.
@lru_cache(maxsize=512)
def policy_of_text(
    targets: str, dispatch: str, warning_ratio: float, escalation_ratios: str
) -> Policy:
    """`policy_of` the columns read as JSON text (`::text`), remembered per distinct text: the
    same few policies were decoded and rebuilt on every ticket opened."""
    return policy_of(
        json.loads(targets), json.loads(dispatch), warning_ratio, json.loads(escalation_ratios)
    )


async def seed_sla_policies(session: AsyncSession, clock: Clock) -> None:
    """Every country starts with the handbook's policy; an edited one is left alone."""
    columns = policy_columns(default_policy())
    now = clock.now()
    rows = [
        {"country": code, **columns, "updated_at": now, "updated_by": "seed", "version": 1}
        for code in sorted(COUNTRY_CODES)
    ]
    await session.execute(insert(SlaPolicy).values(rows).on_conflict_do_nothing())


def _iso(seconds: Any) -> str | None:
    return None if seconds is None else format_duration(timedelta(seconds=float(seconds)))


def _read(row: SlaPolicy) -> SlaPolicyRead:
    return SlaPolicyRead(
        country=row.country,
        targets=PolicyTargets.model_validate(
            {stage.value: _iso(row.targets.get(stage.value)) for stage in POLICY_STAGES}
        ),
        dispatch=DispatchTargets.model_validate(
            {tier.value: _iso(row.dispatch.get(tier.value)) for tier in CityTier}
        ),
        warning_ratio=row.warning_ratio,
        escalation_ratios=list(row.escalation_ratios),
        version=row.version,
        updated_at=row.updated_at,
    )


async def _row(session: AsyncSession, country: str, *, lock: bool = False) -> SlaPolicy:
    stmt = select(SlaPolicy).where(SlaPolicy.country == country.upper())
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no SLA policy for country {country}")
    return row


async def get_policy(session: AsyncSession, country: str) -> SlaPolicyRead:
    return _read(await _row(session, country))


async def load_policy(session: AsyncSession, country: str) -> Policy:
    row = await _row(session, country)
    return policy_of(row.targets, row.dispatch, row.warning_ratio, row.escalation_ratios)


async def put_policy(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    country: str,
    payload: SlaPolicyBody,
    if_match: str | None,
) -> SlaPolicyRead:
    row = await _row(session, country, lock=True)
    check_if_match(if_match, row.version)
    targets = payload.targets.model_dump()
    dispatch = payload.dispatch.model_dump()
    row.targets = {k: parse_duration(v).total_seconds() for k, v in targets.items()}
    row.dispatch = {
        k: None if v is None else parse_duration(v).total_seconds() for k, v in dispatch.items()
    }
    row.warning_ratio = payload.warning_ratio
    row.escalation_ratios = list(payload.escalation_ratios)
    row.updated_at = clock.now()
    row.updated_by = caller.actor
    row.version += 1
    answer = _read(row)
    await session.commit()
    return answer


@dataclass(frozen=True)
class NamedService:
    """A ticket's service as the TSC names it, and the terms its site brings."""

    id: uuid.UUID
    site: dict[str, str]
    terms: SlaTerms


async def named_service(
    session: AsyncSession, caller: Caller, enterprise_id: uuid.UUID, naming: ServiceNaming
) -> NamedService | None:
    """The service a body names (None: it names none), one of the ticket's own enterprise's,
    with the SLA terms of its site (`rules.sla_terms`, the rule intake applies too)."""
    if naming.service_id is not None:
        field, match = "service_id", Service.id == naming.service_id
    elif naming.service_code is not None:
        field, match = "service_code", Service.code == naming.service_code
    else:
        return None
    stmt = visible_to(
        select(Service, Enterprise.country).join(
            Enterprise, Enterprise.id == Service.enterprise_id
        ),
        caller,
        Service.enterprise_id,
    ).where(match)
    found = (await session.execute(stmt)).first()
    if found is None or found[0].enterprise_id != enterprise_id:
        raise field_error(field, "no such service of the ticket's enterprise")
    service, enterprise_country = found
    tier = await city_tier(session, service.site_country, service.site_city)
    terms = sla_terms(
        enterprise_country=enterprise_country,
        service_country=service.site_country,
        service_city_tier=tier,
    )
    site = {
        "address": service.site_address,
        "city": service.site_city,
        "country": service.site_country,
    }
    return NamedService(id=service.id, site=site, terms=terms)
