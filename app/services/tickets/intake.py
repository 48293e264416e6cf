"""Opening a ticket: the hot path. Few round trips, Core statements, no ORM objects.

1. one SELECT resolves the service (tenant-scoped), the country's policy and a
   ticket already holding the same `external_id`;
2. the city tier (countries directory);
3. one INSERT … RETURNING writes the ticket, its number (a sequence: no race)
   and its reception clock, and NOTIFYs the SLA engine and the outbox;
4. `record_event` writes `ticket.created` and its outbox row;
5. the commit (with the Idempotency-Key answer).
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, literal, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.caller import Caller
from app.core.clock import Clock
from app.core.errors import Conflict, Forbidden, field_error
from app.core.idempotency import IdempotencyClaim, commit_creation
from app.domain.country_profiles import city_key
from app.domain.lifecycle import Stage, Status
from app.domain.sla import CityTier, ClockView, due_at, next_due, target_for
from app.models import CityTier as CityTierRow
from app.models import Service, SlaPolicy, Ticket
from app.schemas.tickets import ClockRead, SiteRead, TicketCreate, TicketRead
from app.services.events import OUTBOX_CHANNEL, record_event
from app.services.scoping import visible_to
from app.services.sla_policies import policy_of
from app.services.tickets.clocks import SLA_CHANNEL
from app.services.tickets.directory import city_tier
from app.services.tickets.reads import clock_read

_INSERT = text(
    f"""
WITH n AS (SELECT nextval('ticket_number_seq') AS n),
t AS (
  INSERT INTO tickets (id, number, enterprise_id, service_id, severity, summary, description,
      contact, site, country, city_tier, status, stage, escalation_level, breached, external_id,
      waiting_seconds, reported_at, created_at, updated_at, version)
  SELECT :id, CAST(:prefix AS text) || lpad(n.n::text, greatest(6, length(n.n::text)), '0'),
      :enterprise_id, :service_id, :severity, :summary, :description, CAST(:contact AS jsonb),
      CAST(:site AS jsonb), :country, :city_tier, 'open', 'reception', 0, false, :external_id,
      0, :reported_at, :now, :now, 1
  FROM n
  RETURNING id, number, enterprise_id
),
c AS (
  INSERT INTO sla_clocks (ticket_id, enterprise_id, stage, started_at, target_seconds, due_at,
      paused_seconds, state, escalation_level, warning_ratio, escalation_ratios, next_due_at)
  SELECT t.id, t.enterprise_id, 'reception', :reported_at, :target_seconds, :due_at, 0,
      'running', 0, :warning_ratio, CAST(:escalation_ratios AS jsonb), :next_due_at
  FROM t
  RETURNING id
)
SELECT t.number, (SELECT count(*) FROM c) AS clocks,
       pg_notify('{SLA_CHANNEL}', CAST(:notify AS text)) AS sla,
       pg_notify('{OUTBOX_CHANNEL}', '') AS outbox
FROM t
"""
)


def _resolve_statement(caller: Caller, payload: TicketCreate) -> Any:
    """Service, policy, city tier and a duplicate external_id, in one SELECT.

    The tier joins on the city's key: exact when the site is given (the key is
    computed here); for the service's own site, `lower(city)`, which is the key
    whenever the name is plain (no accents, no punctuation); otherwise the
    caller asks the directory in a second query.
    """
    s = Service.__table__.c
    p = SlaPolicy.__table__.c
    ct = CityTierRow.__table__.c
    country = func.coalesce(literal(payload.site.country if payload.site else None), s.site_country)
    key: Any = literal(city_key(payload.site.city)) if payload.site else func.lower(s.site_city)
    duplicate: Any = literal(None, JSONB)
    if payload.external_id is not None:
        t = Ticket.__table__.c
        duplicate = (
            select(func.jsonb_build_object("id", t.id, "number", t.number))
            .where(t.enterprise_id == s.enterprise_id, t.external_id == payload.external_id)
            .scalar_subquery()
        )
    stmt = select(
        s.id,
        s.enterprise_id,
        s.site_address,
        s.site_city,
        s.site_country,
        p.targets,
        p.dispatch,
        p.warning_ratio,
        p.escalation_ratios,
        duplicate.label("duplicate"),
        ct.tier,
    ).select_from(
        Service.__table__.outerjoin(SlaPolicy.__table__, p.country == country).outerjoin(
            CityTierRow.__table__, (ct.country == country) & (ct.city_key == key)
        )
    )
    if payload.service_id is not None:
        stmt = stmt.where(s.id == payload.service_id)
    else:
        stmt = stmt.where(s.code == payload.service_code)
    return visible_to(stmt, caller, Service.enterprise_id)


def _duplicate(existing: dict[str, Any], external_id: str | None) -> Conflict:
    return Conflict(
        f"ticket {existing['number']} already has external_id {external_id}",
        existing_ticket={"id": str(existing["id"]), "number": existing["number"]},
    )


async def open_ticket(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    claim: IdempotencyClaim | None,
    payload: TicketCreate,
) -> TicketRead:
    now = clock.now()
    if payload.reported_at is not None:
        if not caller.is_provider:
            raise Forbidden("only provider staff logging a phoned report may set reported_at")
        if payload.reported_at > now:
            raise field_error("reported_at", "must not be in the future")
    if payload.enterprise_id is not None:
        caller.require_enterprise(payload.enterprise_id)
    started_at = payload.reported_at or now

    row = (await session.execute(_resolve_statement(caller, payload))).first()
    field = "service_id" if payload.service_id is not None else "service_code"
    if row is None:
        raise field_error(field, "no such service among the caller's enterprises")
    if payload.enterprise_id is not None and row.enterprise_id != payload.enterprise_id:
        raise field_error(field, "the service belongs to another enterprise")
    if row.duplicate is not None:
        raise _duplicate(row.duplicate, payload.external_id)
    if row.targets is None:
        raise field_error("site.country", "no SLA policy for this country")

    site = (
        payload.site.model_dump()
        if payload.site is not None
        else {"address": row.site_address, "city": row.site_city, "country": row.site_country}
    )
    if row.tier is not None:
        tier = CityTier(row.tier)
    elif payload.site is not None or city_key(site["city"]) == site["city"].lower():
        tier = CityTier.intermediate  # the join's key was exact: the city is not listed
    else:
        tier = await city_tier(session, site["country"], site["city"])
    policy = policy_of(row.targets, row.dispatch, row.warning_ratio, row.escalation_ratios)
    target = target_for(policy, Stage.reception, tier, started_at)
    view = ClockView(
        started_at=started_at,
        target=target,
        paused=timedelta(0),
        warning_ratio=policy.warning_ratio,
        escalation_ratios=policy.escalation_ratios,
    )
    due = due_at(started_at, target, timedelta(0))
    next_at = next_due(view)
    ticket_id = uuid.uuid4()
    contact = payload.contact.model_dump(mode="json")
    try:
        number = (
            await session.execute(
                _INSERT,
                {
                    "id": ticket_id,
                    "prefix": f"TT-{now.year}-",
                    "enterprise_id": row.enterprise_id,
                    "service_id": row.id,
                    "severity": payload.severity.value,
                    "summary": payload.summary,
                    "description": payload.description,
                    "contact": json.dumps(contact),
                    "site": json.dumps(site),
                    "country": site["country"],
                    "city_tier": tier.value,
                    "external_id": payload.external_id,
                    "reported_at": started_at,
                    "now": now,
                    "target_seconds": None if target is None else target.total_seconds(),
                    "due_at": due,
                    "warning_ratio": policy.warning_ratio,
                    "escalation_ratios": json.dumps(list(policy.escalation_ratios)),
                    "next_due_at": next_at,
                    "notify": next_at.isoformat() if next_at else "",
                },
            )
        ).scalar_one()
    except IntegrityError:
        # A concurrent intake with the same external_id won the race.
        await session.rollback()
        existing = (await session.execute(_resolve_statement(caller, payload))).first()
        if existing is not None and existing.duplicate is not None:
            raise _duplicate(existing.duplicate, payload.external_id) from None
        raise
    await record_event(
        session,
        subject_type="ticket",
        subject_id=ticket_id,
        type="ticket.created",
        at=now,
        actor=caller.actor,
        enterprise_id=row.enterprise_id,
        data={
            "number": number,
            "severity": payload.severity.value,
            "stage": Stage.reception.value,
            "city_tier": tier.value,
            "external_id": payload.external_id,
            "due_at": due.isoformat() if due else None,
        },
        notify=False,  # the INSERT above already NOTIFYs the outbox
    )
    first_clock: ClockRead = clock_read(
        {
            "stage": Stage.reception.value,
            "started_at": started_at,
            "target_seconds": None if target is None else target.total_seconds(),
            "due_at": due,
            "paused_seconds": 0.0,
            "state": "running",
            "escalation_level": 0,
        }
    )
    answer = TicketRead(
        id=ticket_id,
        number=number,
        enterprise_id=row.enterprise_id,
        service_id=row.id,
        severity=payload.severity,
        summary=payload.summary,
        description=payload.description,
        contact=contact,
        site=SiteRead.model_validate(site),
        city_tier=tier,
        status=Status.open,
        stage=Stage.reception,
        escalation_level=0,
        breached=False,
        hold_reason=None,
        sla=[first_clock],
        external_id=payload.external_id,
        reported_at=started_at,
        created_at=now,
        updated_at=now,
        version=1,
    )
    await commit_creation(session, claim, answer)
    return answer
