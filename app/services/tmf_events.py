"""TMF621 hub listeners' event envelopes, built from the same outbox events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from app.services.fanout import OutboxEvent


async def tmf_deliveries(
    session: AsyncSession, events: Sequence[OutboxEvent], hubs: Sequence[Any]
) -> list[tuple[uuid.UUID, OutboxEvent, dict[str, Any]]]:
    """(hub id, event, TMF envelope) for every hub listening to a ticket event."""
    return []
