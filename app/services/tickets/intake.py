"""Opening a ticket: the hottest path. Plain SQL on the driver, two round trips.

1. one SELECT resolves the service (tenant-scoped through `scoping`) or, when
   none is named yet, the enterprise; the policy of the terms' country, the
   city tier of the service's site, a ticket already holding the same
   `external_id`, and draws the ticket number from its sequence (over the
   resolved row, so that on Citus the draw runs on the coordinator, where the
   sequence lives, and the rest on the enterprise's shard);
2. one INSERT writes the ticket, its reception clock, `ticket.created` with
   its outbox row, the Idempotency-Key answer, and NOTIFYs the SLA engine and
   the outbox. One statement is atomic on its own, so it needs no BEGIN/COMMIT.

Measured against SQLAlchemy's session on the same statements, this path does
a fraction of the Python work per request (see docs/BENCHMARKS.md).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.database import Db, begin_on_server, driver_connection, in_server_transaction
from app.core.deps import refuse_unless
from app.core.errors import Conflict, field_error
from app.core.events import OUTBOX_CHANNEL, event_and_outbox_ctes
from app.core.idempotency import IdempotencyClaim, replay_if_kept, replay_stored_answer
from app.core.kept_answers import KEPT_COLUMNS, kept_answer_cte, stored_answer_cte
from app.core.tenancy import Caller, visible_enterprise_ids
from app.services.directory.rules import city_key
from app.services.incidents.intake_hook import link_new_ticket_cte
from app.services.tickets.clocks import SLA_CHANNEL, first_due
from app.services.tickets.directory import city_tier
from app.services.tickets.events import TicketCreated
from app.services.tickets.policy import ROLES
from app.services.tickets.reads import clock_read
from app.services.tickets.rules import (
    Channel,
    CityTier,
    Stage,
    Status,
    channel_of,
    due_at,
    sla_terms,
    target_for,
    ticket_location,
    ticket_number,
)
from app.services.tickets.schemas import ClockRead, SiteRead, TicketCreate, TicketRead
from app.services.tickets.sla_policies import policy_of_text

# The answer kept for the request's Idempotency-Key ($4, $5) comes back on the same row(s),
# or on a row of its own when nothing resolves: a retry is answered before anything else.
_RESOLVE = """
WITH r AS MATERIALIZED (
SELECT {service}, p.targets::text AS targets, p.dispatch::text AS dispatch, p.warning_ratio,
       p.escalation_ratios::text AS escalation_ratios, {tier},
       {duplicate} AS duplicate
  FROM {source}
 WHERE {match} AND ($3::uuid[] IS NULL OR {enterprise} = ANY($3::uuid[]))
),
{kept}
SELECT r.*,
       CASE WHEN r.enterprise_id IS NOT NULL THEN nextval('ticket_number_seq') END AS number_seq,
       {kept_columns}
  FROM (VALUES (1)) AS one (x) LEFT JOIN r ON true LEFT JOIN k ON true
"""
_KEPT = {"kept": kept_answer_cte(principal="$4", key="$5"), "kept_columns": KEPT_COLUMNS}
# The terms follow the service's own site (`rules.sla_terms`): its country's policy and its
# city's tier; a site on the request is never joined.
_OF_SERVICE = {
    "service": "s.id, s.enterprise_id, s.site_address, s.site_city, s.site_country,"
    " e.country AS enterprise_country",
    "tier": "ct.tier",
    "enterprise": "s.enterprise_id",
    "duplicate": "NULL::jsonb",
    "source": "services s JOIN enterprises e ON e.id = s.enterprise_id"
    " LEFT JOIN sla_policies p ON p.country = s.site_country"
    " LEFT JOIN city_tiers ct ON ct.country = s.site_country"
    " AND ct.city_key = lower(s.site_city)",
    **_KEPT,
}
# With an external_id, the enterprise's ticket holding it: a join on the enterprise, not a
# correlated subquery, which Citus runs on every shard when staff name a service by id alone.
_AND_DUPLICATE = {
    **_OF_SERVICE,
    "duplicate": "CASE WHEN t.id IS NOT NULL"
    " THEN jsonb_build_object('id', t.id, 'number', t.number) END",
    "source": _OF_SERVICE["source"]
    + " LEFT JOIN tickets t ON t.enterprise_id = s.enterprise_id AND t.external_id = $2::text",
}
# (by, with an external_id): the statement
_RESOLVE_SERVICE = {
    ("id", False): _RESOLVE.format(match="s.id = $1::uuid AND $2::text IS NULL", **_OF_SERVICE),
    ("id", True): _RESOLVE.format(match="s.id = $1::uuid", **_AND_DUPLICATE),
    ("code", False): _RESOLVE.format(match="s.code = $1::text AND $2::text IS NULL", **_OF_SERVICE),
    ("code", True): _RESOLVE.format(match="s.code = $1::text", **_AND_DUPLICATE),
}
# No service named yet: the enterprise's country policy (and the default tier).
_RESOLVE_UNNAMED = _RESOLVE.format(
    service="NULL::uuid AS id, e.id AS enterprise_id, NULL::text AS site_address,"
    " NULL::text AS site_city, NULL::text AS site_country, e.country AS enterprise_country",
    tier="NULL::text AS tier",
    enterprise="e.id",
    # The enterprise is the key itself: a subquery correlated with a reference table
    # (enterprises) would not run on Citus.
    duplicate="(SELECT jsonb_build_object('id', t.id, 'number', t.number) FROM tickets t"
    " WHERE t.enterprise_id = $1::uuid AND t.external_id = $2::text)",
    source="enterprises e LEFT JOIN sla_policies p ON p.country = e.country",
    match="e.id = $1::uuid",
    **_KEPT,
)

# ticket.created with its outbox row, and the Idempotency-Key answer: the platform's own
# fragments (next to record_event and commit_creation), folded into the one INSERT.
_CREATED_EVENT = event_and_outbox_ctes(
    "t",
    subject_type=TicketCreated.subject_type,
    event_type=TicketCreated.event_type,
    at="$14",
    actor="$20",
    data="$21",
)
_STORED_ANSWER = stored_answer_cte(
    "t", principal="$22", key="$23", request_hash="$24", body="$25", at="$14", headers="$28"
)

# A ticket on a service an open incident affects is linked to it in the same statement.
_INCIDENT_LINK = link_new_ticket_cte("t", enterprise="$3", service="$4", at="$14")

_INSERT = f"""
WITH t AS (
  INSERT INTO tickets (id, number, enterprise_id, service_id, severity, summary, description,
      contact, site, country, city_tier, status, stage, escalation_level, breached, external_id,
      waiting_seconds, reported_at, created_at, updated_at, version, channel)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, 'open', 'reception', 0,
      false, $12, 0, $13, $14, $14, 1, $27)
  RETURNING id, enterprise_id
),
c AS (
  INSERT INTO sla_clocks (ticket_id, enterprise_id, stage, started_at, target_seconds, due_at,
      paused_seconds, state, escalation_level, warning_ratio, escalation_ratios, next_due_at)
  SELECT t.id, t.enterprise_id, 'reception', $13, $15, $16, 0, 'running', 0, $17,
      $18::jsonb, $19
  FROM t
),
{_CREATED_EVENT},
{_STORED_ANSWER},
{_INCIDENT_LINK}
SELECT pg_notify('{SLA_CHANNEL}', $26::text), pg_notify('{OUTBOX_CHANNEL}', '') FROM t
"""


def _json(value: Any) -> Any:
    # The driver hands jsonb back as text (SQLAlchemy's codec); decode it here.
    return json.loads(value) if isinstance(value, str) else value


def _duplicate(existing: dict[str, Any], external_id: str | None) -> Conflict:
    return Conflict(
        f"ticket {existing['number']} already has external_id {external_id}",
        existing_ticket={"id": str(existing["id"]), "number": existing["number"]},
    )


async def _resolve(
    driver: Any, caller: Caller, payload: TicketCreate, claim: IdempotencyClaim | None = None
) -> Any:
    """The service (or, none named, the enterprise), its policy and tier, a duplicate, a number;
    first of all, the answer kept for the claim's key (raised as its replay)."""
    statement: str
    key: Any
    with_external = payload.external_id is not None
    if payload.service_id is not None:
        statement, key = _RESOLVE_SERVICE[("id", with_external)], payload.service_id
    elif payload.service_code is not None:
        statement, key = _RESOLVE_SERVICE[("code", with_external)], payload.service_code
    else:
        statement, key = _RESOLVE_UNNAMED, caller.acting_enterprise(payload.enterprise_id)
    # A service code is unique within its enterprise: one named on the request narrows the
    # search to it (the caller's right to it was checked before).
    visible = (
        [payload.enterprise_id]
        if payload.enterprise_id is not None
        else visible_enterprise_ids(caller)
    )
    principal, idempotency_key = (claim.principal, claim.key) if claim else (None, None)
    fetched = await driver.fetch(
        statement, key, payload.external_id, visible, principal, idempotency_key
    )
    replay_if_kept(claim, fetched[0])
    rows = [row for row in fetched if row["enterprise_id"] is not None]
    if len(rows) > 1:
        raise field_error(
            "service_code", "names services of several enterprises; give enterprise_id"
        )
    return rows[0] if rows else None


async def _insert(
    db: Db,
    driver: Any,
    caller: Caller,
    claim: IdempotencyClaim | None,
    payload: TicketCreate,
    params: tuple[Any, ...],
) -> None:
    try:
        if in_server_transaction(driver):
            # Inside a transaction a failed statement would poison it: fence it.
            async with driver.transaction():
                await driver.execute(_INSERT, *params)
        else:
            await driver.execute(_INSERT, *params)
    except asyncpg.UniqueViolationError as exc:
        # A concurrent request won a race: the same Idempotency-Key, or the
        # same external_id. Answer as if this one had come second.
        if claim is not None and exc.table_name == "idempotency_records":
            await replay_stored_answer(db, claim)
        existing = await _resolve(driver, caller, payload)
        if existing is not None and existing["duplicate"] is not None:
            raise _duplicate(_json(existing["duplicate"]), payload.external_id) from None
        raise


async def open_ticket(
    db: Db,
    caller: Caller,
    clock: Clock,
    claim: IdempotencyClaim | None,
    payload: TicketCreate,
    *,
    commit: bool = True,
    face: Channel | None = None,
) -> TicketRead:
    """Open a ticket. `commit=False` leaves it in the caller's open transaction; `face` names
    the channel of TMF621, Sonata and mail (`rules.channel_of`)."""
    now = clock.now()
    channel = channel_of(face, signed_in=caller.kind == "user")
    if payload.reported_at is not None:
        refuse_unless(caller, ROLES["set_reported_at"], "set reported_at")
        if payload.reported_at > now:
            raise field_error("reported_at", "must not be in the future")
    if payload.enterprise_id is not None:
        caller.require_enterprise(payload.enterprise_id)
    started_at = payload.reported_at or now
    if not commit:
        await begin_on_server(db)
    driver = await driver_connection(db)

    row = await _resolve(driver, caller, payload, claim)
    named = payload.service_id is not None or payload.service_code is not None
    field = "service_id" if payload.service_id is not None else "service_code"
    if row is None:
        if not named:
            raise field_error("enterprise_id", "no such enterprise among the caller's")
        raise field_error(field, "no such service among the caller's enterprises")
    enterprise_id = uuid.UUID(bytes=row["enterprise_id"].bytes)
    service_id = uuid.UUID(bytes=row["id"].bytes) if named else None
    if payload.enterprise_id is not None and enterprise_id != payload.enterprise_id:
        raise field_error(field, "the service belongs to another enterprise")
    if row["duplicate"] is not None:
        raise _duplicate(_json(row["duplicate"]), payload.external_id)
    if row["targets"] is None:
        raise field_error(field if named else "enterprise_id", "no SLA policy for its country")

    service_site = (
        {"address": row["site_address"], "city": row["site_city"], "country": row["site_country"]}
        if named
        else None
    )
    site = payload.site.model_dump() if payload.site is not None else service_site
    service_tier: CityTier | None = None
    if service_site is not None:
        city = service_site["city"]
        if row["tier"] is not None:
            service_tier = CityTier(row["tier"])
        elif city_key(city) != city.lower():  # the join's key was not exact: ask the directory
            service_tier = await city_tier(db, service_site["country"], city)
    terms = sla_terms(
        enterprise_country=row["enterprise_country"],
        service_country=row["site_country"],
        service_city_tier=service_tier,
    )
    tier = terms.city_tier
    policy = policy_of_text(
        row["targets"], row["dispatch"], row["warning_ratio"], row["escalation_ratios"]
    )
    target = target_for(policy, Stage.reception, tier, started_at)
    due = due_at(started_at, target, timedelta(0))
    next_at = first_due(started_at, target, policy)
    number = ticket_number(now, row["number_seq"])
    answer = _answer(
        payload,
        uuid.uuid4(),
        number,
        enterprise_id,
        service_id,
        site,
        tier,
        started_at,
        now,
        target,
        due,
        channel,
    )
    # The event's body is its payload model's, serialised here: the statement writes it.
    created = TicketCreated(
        number=number,
        severity=payload.severity,
        stage=Stage.reception,
        city_tier=tier,
        external_id=payload.external_id,
        due_at=due,
    )
    params = (
        answer.id, number, enterprise_id, service_id, payload.severity.value, payload.summary,
        payload.description, json.dumps(answer.contact),
        None if site is None else json.dumps(site), terms.country, tier.value,
        payload.external_id, started_at, now,
        None if target is None else target.total_seconds(), due, policy.warning_ratio,
        json.dumps(list(policy.escalation_ratios)), next_at, caller.actor,
        created.stored_json(),
        claim.principal if claim else None, claim.key if claim else None,
        claim.request_hash if claim else None,
        # The kept answer, serialised by pydantic-core once, only when a key asks for it.
        answer.model_dump_json() if claim else None,
        next_at.isoformat() if next_at else "", channel.value,
        json.dumps({"Location": ticket_location(answer.id)}) if claim else None,
    )  # fmt: skip
    await _insert(db, driver, caller, claim, payload, params)
    if commit and isinstance(db, AsyncSession):  # a pooled driver's statement committed itself
        # A no-op unless something earlier in the request opened a transaction
        # (in tests, the surrounding savepoint is released).
        await db.commit()
    return answer


def _answer(
    payload: TicketCreate,
    ticket_id: uuid.UUID,
    number: str,
    enterprise_id: uuid.UUID,
    service_id: uuid.UUID | None,
    site: dict[str, Any] | None,
    tier: CityTier,
    started_at: datetime,
    now: datetime,
    target: timedelta | None,
    due: datetime | None,
    channel: Channel,
) -> TicketRead:
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
    return TicketRead(
        id=ticket_id,
        number=number,
        enterprise_id=enterprise_id,
        service_id=service_id,
        severity=payload.severity,
        summary=payload.summary,
        description=payload.description,
        contact=payload.contact.model_dump(mode="json"),
        site=None if site is None else SiteRead.model_validate(site),
        city_tier=tier,
        status=Status.open,
        stage=Stage.reception,
        escalation_level=0,
        breached=False,
        hold_reason=None,
        sla=[first_clock],
        external_id=payload.external_id,
        channel=channel,
        reported_at=started_at,
        created_at=now,
        updated_at=now,
        version=1,
    )
