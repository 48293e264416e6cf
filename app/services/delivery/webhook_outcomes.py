"""Record what webhook attempts came to, many in one short transaction.

Each attempt leaves its log line (`webhook_attempts`); a delivery that succeeded is done,
one that failed waits for its retry (or is given up), and the endpoint's health follows.
The successes of a batch are written with one statement per table, keyed by
`(enterprise_id, id)` (with the `attempts` claimed: a newer lease owns the row otherwise);
failures, rare, one by one. Deliveries leased behind a failed one and never sent are
handed back as they were before the claim.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.claims import unnested
from app.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.services.delivery.leases import still_held
from app.services.delivery.rules import WEBHOOK_RETRY_DELAYS, next_retry, should_disable
from app.services.delivery.webhook_sender import Claimed, Outcome

# The batch's statements are Core statements on the tables: an ORM update would fetch the
# rows it changed to synchronise a session that holds none of them.
_DELIVERIES: Any = WebhookDelivery.__table__
_ENDPOINTS: Any = WebhookEndpoint.__table__
_E = _ENDPOINTS.c


@dataclass(frozen=True, slots=True)
class Attempted:
    claimed: Claimed
    outcome: Outcome
    at: datetime  # when the attempt started


async def record_outcomes(
    session: AsyncSession, attempted: list[Attempted], unsent: list[Claimed], now: datetime
) -> None:
    """The attempts' log lines, the deliveries' next steps, the endpoints' health, and the
    unsent deliveries handed back; committed together."""
    if attempted:
        await session.execute(
            insert(cast(Table, WebhookAttempt.__table__)),  # Core: one statement for many rows
            [
                {
                    "id": uuid.uuid4(),
                    "delivery_id": a.claimed.id,
                    "endpoint_id": a.claimed.endpoint_id,
                    "enterprise_id": a.claimed.enterprise_id,
                    "event_id": a.claimed.event_id,
                    "attempted_at": a.at,
                    "status_code": a.outcome.status_code,
                    "latency_ms": a.outcome.latency_ms,
                    "response_excerpt": a.outcome.excerpt,
                    "error": a.outcome.error,
                }
                for a in attempted
            ],
        )
    succeeded = [a.claimed for a in attempted if a.outcome.ok]
    if succeeded:
        await session.execute(
            update(_DELIVERIES)
            .where(*still_held(WebhookDelivery, [c.lease_key for c in succeeded]))
            .values(status="succeeded", completed_at=now)
        )
        endpoints = sorted({(c.enterprise_id, c.endpoint_id) for c in succeeded})
        healthy = unnested(
            "healthy",
            {
                "enterprise_id": (_E.enterprise_id, [e[0] for e in endpoints]),
                "id": (_E.id, [e[1] for e in endpoints]),
            },
        )
        await session.execute(
            update(_ENDPOINTS)
            .where(
                _E.enterprise_id == healthy.c.enterprise_id,
                _E.id == healthy.c.id,
                _E.failing_since.is_not(None),
            )
            .values(failing_since=None)
        )
    for a in attempted:
        if not a.outcome.ok:
            await _record_failure(session, a.claimed, a.outcome, now)
    if unsent:
        await session.execute(
            update(_DELIVERIES)
            .where(*still_held(WebhookDelivery, [c.lease_key for c in unsent]))
            .values(attempts=_DELIVERIES.c.attempts - 1, next_attempt_at=now)
        )
    await session.commit()


async def _record_failure(
    session: AsyncSession, claimed: Claimed, outcome: Outcome, now: datetime
) -> None:
    """The delivery waits for its retry (or is given up); the endpoint is failing since the
    first of its failures in a row, and is disabled when that lasts too long."""
    from app.services.delivery.notifications import endpoint_disabled_mails

    delivery = update(WebhookDelivery).where(
        WebhookDelivery.enterprise_id == claimed.enterprise_id,
        WebhookDelivery.id == claimed.id,
        WebhookDelivery.status == "pending",
        WebhookDelivery.attempts == claimed.attempts,  # a newer lease owns it otherwise
    )
    endpoint = update(WebhookEndpoint).where(
        WebhookEndpoint.enterprise_id == claimed.enterprise_id,
        WebhookEndpoint.id == claimed.endpoint_id,
    )
    retry_at = next_retry(claimed.attempts, now, WEBHOOK_RETRY_DELAYS)
    if retry_at is None:
        values: dict[str, Any] = {"status": "failed", "completed_at": now}
    else:
        values = {"next_attempt_at": retry_at}
    await session.execute(delivery.values(last_error=outcome.error, **values))
    failing_since = (
        await session.execute(
            endpoint.values(
                failing_since=func.coalesce(WebhookEndpoint.failing_since, now)
            ).returning(WebhookEndpoint.failing_since, WebhookEndpoint.status)
        )
    ).one()
    if failing_since.status == "active" and should_disable(failing_since.failing_since, now):
        reason = f"every delivery failed since {failing_since.failing_since.isoformat()}"
        await session.execute(
            endpoint.values(
                status="disabled",
                disabled_reason=reason,
                version=WebhookEndpoint.version + 1,
                updated_at=now,
            )
        )
        await endpoint_disabled_mails(session, claimed.endpoint_id, reason, now)
