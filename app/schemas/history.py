"""The history of a resource: its events, oldest first."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from app.schemas.common import ResponseBody


class EventRead(ResponseBody):
    id: int
    type: str
    at: datetime
    actor: str
    enterprise_id: uuid.UUID | None
    data: dict[str, Any]
