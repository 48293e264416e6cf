"""The history of a resource: its events, oldest first."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from app.schemas.common import Instant, ResponseBody

# An instant given with any offset, kept and answered in UTC (RFC 3339 UTC everywhere).
# `Instant` also refuses offsets that push it outside years 1..9999 (a 422, not
# an OverflowError escaping the validator as a 500).
UtcDateTime = Instant


class EventRead(ResponseBody):
    id: int
    type: str
    at: datetime
    actor: str
    enterprise_id: uuid.UUID | None
    data: dict[str, Any]
