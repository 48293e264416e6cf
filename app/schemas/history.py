"""The history of a resource: its events, oldest first."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime

from app.schemas.common import ResponseBody

# An instant given with any offset, kept and answered in UTC (RFC 3339 UTC everywhere).
UtcDateTime = Annotated[AwareDatetime, AfterValidator(lambda at: at.astimezone(UTC))]


class EventRead(ResponseBody):
    id: int
    type: str
    at: datetime
    actor: str
    enterprise_id: uuid.UUID | None
    data: dict[str, Any]
