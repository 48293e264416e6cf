"""ETags from a row's version; If-Match guards writes against lost updates."""

from __future__ import annotations

from typing import Annotated, Protocol, TypeVar

from fastapi import Header, Response

from app.core.errors import PreconditionFailed

# RFC 9110 If-Match: `*`, or entity tags (`"…"` or weak `W/"…"`) separated by commas. Anything
# else is a client's mistake to be told (422), not a stale write (412).
_ENTITY_TAG = r'(W/)?"[\x21\x23-\x7e]*"'
IF_MATCH_PATTERN = rf"^[ \t]*(\*|{_ENTITY_TAG}([ \t]*,[ \t]*{_ENTITY_TAG})*)[ \t]*$"

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The ETag last read; a write against a newer version answers 412.",
        max_length=1024,
        pattern=IF_MATCH_PATTERN,
    ),
]


def etag_of(version: int) -> str:
    return f'W/"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag_of(version)


class HasVersion(Protocol):
    @property
    def version(self) -> int | None: ...


V = TypeVar("V", bound=HasVersion)


def with_etag(response: Response, row: V) -> V:
    """Answer `row` with its `ETag`; a row not stored yet (no version) has none."""
    if row.version is not None:
        set_etag(response, row.version)
    return row


def check_if_match(if_match: str | None, current_version: int) -> None:
    """No header: the write goes through. A header naming another version: 412."""
    if if_match is None:
        return
    wanted = {tag.strip() for tag in if_match.split(",")}
    if "*" in wanted:
        return
    normalised = {tag.removeprefix("W/") for tag in wanted}
    if f'"{current_version}"' not in normalised:
        raise PreconditionFailed(
            f"the resource has changed (now {etag_of(current_version)}); read it again and retry",
            current_etag=etag_of(current_version),
        )
