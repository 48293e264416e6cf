"""A change a client can see: the row's version (its ETag) goes up and its time of change moves.

Reads answer `ETag` from `version`, writes check `If-Match` against it
(`app.core.etag`), and lists page over `updated_at`: both move together here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Versioned(Protocol):
    version: int
    updated_at: datetime


def new_version(row: Versioned, at: datetime) -> None:
    row.version += 1
    row.updated_at = at
