"""Which mails an event writes: recipients, language, rendered text."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.countries import default_language
from app.models import Enterprise, MailMessage, WebhookEndpoint
from app.services.mail_templates import render

if TYPE_CHECKING:
    from app.services.fanout import OutboxEvent


async def mails_for_events(
    session: AsyncSession, events: Sequence[OutboxEvent], now: datetime
) -> list[dict[str, Any]]:
    return []


async def endpoint_disabled_mails(
    session: AsyncSession, endpoint_id: uuid.UUID, reason: str, now: datetime
) -> None:
    """Tell the endpoint's owner (or, without one, its enterprise's contacts) it was disabled."""
    endpoint = (
        await session.execute(
            select(
                WebhookEndpoint.url,
                WebhookEndpoint.owner_email,
                WebhookEndpoint.enterprise_id,
                Enterprise.country,
            )
            .join(Enterprise, Enterprise.id == WebhookEndpoint.enterprise_id)
            .where(WebhookEndpoint.id == endpoint_id)
        )
    ).one()
    recipients: list[tuple[str, str]] = []
    if endpoint.owner_email:
        recipients.append((endpoint.owner_email, default_language(endpoint.country)))
    else:
        recipients = await _admin_recipients(session, endpoint.enterprise_id)
    rows = []
    for address, language in recipients:
        subject, body = render(
            "webhook_disabled",
            language,
            {"endpoint_id": str(endpoint_id), "url": endpoint.url, "reason": reason},
        )
        rows.append(_mail_row(endpoint.enterprise_id, None, address, language, subject, body, now))
    if rows:
        await session.execute(insert(MailMessage).values(rows))


def _mail_row(
    enterprise_id: uuid.UUID | None,
    event_id: int | None,
    recipient: str,
    language: str,
    subject: str,
    body: str,
    now: datetime,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "enterprise_id": enterprise_id,
        "event_id": event_id,
        "recipient": recipient,
        "language": language,
        "subject": subject[:300],
        "body": body,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


async def _admin_recipients(
    session: AsyncSession, enterprise_id: uuid.UUID
) -> list[tuple[str, str]]:
    return []
