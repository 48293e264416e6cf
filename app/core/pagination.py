"""Keyset pagination over (updated_at, id): stable under inserts, cheap at any depth."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, literal, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from app.core.clock import Instant
from app.core.errors import field_error

T = TypeVar("T")

MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class PageParams(BaseModel):
    limit: int = 50
    cursor: str | None = None
    updated_since: datetime | None = None


async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    updated_since: Annotated[
        Instant | None,
        Query(description="Only items changed at or after this instant (RFC 3339)"),
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor, updated_since=updated_since)


def encode_cursor(updated_at: datetime, row_id: Any) -> str:
    raw = json.dumps([updated_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, row_id = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(at), str(row_id)
    except (ValueError, TypeError) as exc:
        raise field_error("cursor", "not a cursor this API gave out") from exc


def keyset(
    stmt: Select[Any],
    params: PageParams,
    updated_at: InstrumentedAttribute[datetime],
    row_id: InstrumentedAttribute[Any],
) -> Select[Any]:
    """Order by (updated_at, id), apply `updated_since` and the cursor, fetch one extra row."""
    if params.updated_since is not None:
        stmt = stmt.where(updated_at >= params.updated_since)
    if params.cursor:
        at, last_id = decode_cursor(params.cursor)
        key: Any = last_id
        if row_id.type.python_type is uuid.UUID:
            try:
                key = uuid.UUID(last_id)
            except ValueError as exc:
                raise field_error("cursor", "not a cursor this API gave out") from exc
        stmt = stmt.where(tuple_(updated_at, row_id) > tuple_(literal(at), literal(key)))
    return stmt.order_by(updated_at, row_id).limit(params.limit + 1)


def page_of(rows: Sequence[T], params: PageParams, key: Any) -> tuple[list[T], str | None]:
    """Split the extra row off; `key(row)` gives (updated_at, id) of a row."""
    items = list(rows[: params.limit])
    if len(rows) > params.limit and items:
        at, row_id = key(items[-1])
        return items, encode_cursor(at, row_id)
    return items, None
