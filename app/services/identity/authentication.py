"""Turn a bearer token into a Caller: one indexed lookup (remembered by `core.caller_cache`)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import driver_connection
from app.core.errors import Unauthorized
from app.core.roles import Role
from app.core.security import ACCESS_PREFIX, hash_token
from app.core.tenancy import Caller

# Writing last_used_at on every request would turn each read into a write;
# a minute's resolution is what an administrator reviewing tokens needs.
LAST_USED_RESOLUTION = timedelta(minutes=1)


async def resolve_caller(session: AsyncSession, token: str, now: datetime) -> Caller:
    return (await resolve_caller_until(session, token, now))[0]


async def resolve_caller_until(
    session: AsyncSession, token: str, now: datetime
) -> tuple[Caller, datetime | None]:
    """The caller and until when the token holds on its own (an access token's expiry; None
    for an API client's, which only a revocation ends): what `core.caller_cache` keeps."""
    if token.startswith(ACCESS_PREFIX):
        return await _user_caller(session, token, now)
    # API clients carry the `cdk_` prefix, except the bootstrap administrator,
    # whose token is whatever the operator put in CARRIERDESK_ADMIN_TOKEN.
    return await _api_client_caller(session, token, now), None


# The caller lookup runs on every request, so it goes to the driver directly:
# plain SQL, a prepared statement cached by asyncpg, and no transaction of its
# own (SQLAlchemy's BEGIN/ROLLBACK would double its round trips).
_CLIENT_BY_TOKEN = """
SELECT c.id, c.name, c.role, c.last_used_at,
       (SELECT array_agg(e.enterprise_id) FROM api_client_enterprises e
         WHERE e.api_client_id = c.id) AS enterprise_ids
  FROM api_clients c
 WHERE c.token_hash = $1 AND c.revoked_at IS NULL
"""

_TOUCH_CLIENT = "UPDATE api_clients SET last_used_at = $2 WHERE id = $1"

_USER_BY_ACCESS_TOKEN = """
SELECT u.id, u.name, u.role, u.default_enterprise_id, s.id AS session_id, s.access_expires_at,
       (SELECT array_agg(e.enterprise_id) FROM user_enterprises e
         WHERE e.user_id = u.id) AS enterprise_ids
  FROM users u JOIN user_sessions s ON s.user_id = u.id
 WHERE s.access_hash = $1 AND s.revoked_at IS NULL AND s.access_expires_at > $2
   AND u.revoked_at IS NULL
"""


def _uuids(values: list[uuid.UUID] | None) -> frozenset[uuid.UUID]:
    return frozenset(uuid.UUID(bytes=v.bytes) for v in values or ())


async def _api_client_caller(session: AsyncSession, token: str, now: datetime) -> Caller:
    driver = await driver_connection(session)
    row = await driver.fetchrow(_CLIENT_BY_TOKEN, hash_token(token))
    if row is None:
        raise Unauthorized("the bearer token is not valid or has been revoked")
    client_id = uuid.UUID(bytes=row["id"].bytes)
    last_used_at = row["last_used_at"]
    if last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION:
        await driver.execute(_TOUCH_CLIENT, client_id, now)
        # Keeps the note of use even when the request itself fails later; with
        # no transaction open on the server this costs no round trip.
        await session.commit()
    return Caller(
        id=client_id,
        kind="api_client",
        role=Role(row["role"]),
        name=row["name"],
        enterprise_ids=_uuids(row["enterprise_ids"]),
    )


async def _user_caller(session: AsyncSession, token: str, now: datetime) -> tuple[Caller, datetime]:
    driver = await driver_connection(session)
    row = await driver.fetchrow(_USER_BY_ACCESS_TOKEN, hash_token(token), now)
    if row is None:
        raise Unauthorized("the access token is not valid, has expired or has been revoked")
    default = row["default_enterprise_id"]
    caller = Caller(
        id=uuid.UUID(bytes=row["id"].bytes),
        kind="user",
        role=Role(row["role"]),
        name=row["name"],
        enterprise_ids=_uuids(row["enterprise_ids"]),
        default_enterprise_id=None if default is None else uuid.UUID(bytes=default.bytes),
        session_id=uuid.UUID(bytes=row["session_id"].bytes),
    )
    return caller, row["access_expires_at"]
