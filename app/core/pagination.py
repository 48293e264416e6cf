"""Keyset pagination: stable under inserts, cheap at any depth.

Rows in tables page over (updated_at, id) in SQL (`keyset`, `page_of`); a list
with another natural order (reference data read whole, a computed year of
holidays) pages in memory over its own sort key (`page_in_order`).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, literal, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from app.core.clock import Instant
from app.core.errors import field_error
from app.core.time_bounds import instant_problem

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


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]
Cursor = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` of the previous page")
]


UpdatedSince = Annotated[
    Instant | None,
    Query(description="Only items changed at or after this instant (RFC 3339)"),
]


async def page_params(
    limit: Limit = 50, cursor: Cursor = None, updated_since: UpdatedSince = None
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor, updated_since=updated_since)


async def cursor_params(limit: Limit = 50, cursor: Cursor = None) -> PageParams:
    """`limit` and `cursor` only: for lists whose items keep no time of change."""
    return PageParams(limit=limit, cursor=cursor)


# A route's parameter for a list paged with `keyset` (rows that keep their time of change).
Paging = Annotated[PageParams, Depends(page_params)]

# A route's parameter for a list paged with `page_in_order`.
CursorPaging = Annotated[PageParams, Depends(cursor_params)]


def _pack(parts: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


def _unpack(cursor: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError) as exc:
        raise _not_ours() from exc


def _not_ours() -> Exception:
    return field_error("cursor", "not a cursor this API gave out")


def encode_cursor(updated_at: datetime, row_id: Any) -> str:
    return _pack([updated_at.isoformat(), str(row_id)])


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, row_id = _unpack(cursor)
        when = datetime.fromisoformat(at)
    except (ValueError, TypeError) as exc:
        raise _not_ours() from exc
    if when.tzinfo is None or instant_problem(when) is not None:
        raise _not_ours()  # the API writes every cursor's time with its offset, in range
    return when, str(row_id)


def decode_uuid_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """A cursor over rows keyed by a uuid: its (updated_at, id), or a 422 naming `cursor`."""
    at, row_id = decode_cursor(cursor)
    try:
        return at, uuid.UUID(row_id)
    except ValueError as exc:
        raise _not_ours() from exc


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
        key: Any
        if row_id.type.python_type is uuid.UUID:
            at, key = decode_uuid_cursor(params.cursor)
        else:
            at, key = decode_cursor(params.cursor)
        stmt = stmt.where(tuple_(updated_at, row_id) > tuple_(literal(at), literal(key)))
    return stmt.order_by(updated_at, row_id).limit(params.limit + 1)


def page_of(rows: Sequence[T], params: PageParams, key: Any) -> tuple[list[T], str | None]:
    """Split the extra row off; `key(row)` gives (updated_at, id) of a row."""
    items = list(rows[: params.limit])
    if len(rows) > params.limit and items:
        at, row_id = key(items[-1])
        return items, encode_cursor(at, row_id)
    return items, None


SortKey = tuple[str | int, ...]


def _decode_key(cursor: str, like: SortKey) -> SortKey:
    """The key in `cursor`, refused unless it has the parts and kinds of `like`."""
    key = _unpack(cursor)
    if not isinstance(key, list) or [type(part) for part in key] != [type(p) for p in like]:
        raise _not_ours()
    return tuple(key)


def page_in_order(
    items: Iterable[T], params: PageParams, key: Callable[[T], SortKey]
) -> tuple[list[T], str | None]:
    """One page of `items` in the order of `key` (unique per item: strings and integers).

    Keyset like `keyset`, in memory: the cursor is the key of the last item
    given, so a page never repeats or skips an item when others come or go.
    """
    ordered = sorted(items, key=key)
    if params.cursor and ordered:
        after = _decode_key(params.cursor, key(ordered[0]))
        ordered = [item for item in ordered if key(item) > after]
    page = ordered[: params.limit]
    if len(ordered) > params.limit:
        return page, _pack(list(key(page[-1])))
    return page, None
