"""Turn a bearer token into a Caller: one indexed lookup per request."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.caller import Caller
from app.core.errors import Unauthorized
from app.core.security import ACCESS_PREFIX, hash_token
from app.domain.roles import Role
from app.models import ApiClient, ApiClientEnterprise, User, UserEnterprise, UserSession

# Writing last_used_at on every request would turn each read into a write;
# a minute's resolution is what an administrator reviewing tokens needs.
LAST_USED_RESOLUTION = timedelta(minutes=1)


async def resolve_caller(session: AsyncSession, token: str, now: datetime) -> Caller:
    if token.startswith(ACCESS_PREFIX):
        return await _user_caller(session, token, now)
    # API clients carry the `cdk_` prefix, except the bootstrap administrator,
    # whose token is whatever the operator put in CARRIERDESK_ADMIN_TOKEN.
    return await _api_client_caller(session, token, now)


# Built once, executed with parameters: the statement's cache key is memoised,
# so the per-request cost is the round trip, not SQLAlchemy's compilation work.
_CLIENT_BY_TOKEN = select(
    ApiClient.id,
    ApiClient.name,
    ApiClient.role,
    ApiClient.last_used_at,
    select(func.array_agg(ApiClientEnterprise.enterprise_id))
    .where(ApiClientEnterprise.api_client_id == ApiClient.id)
    .scalar_subquery(),
).where(ApiClient.token_hash == bindparam("token_hash"), ApiClient.revoked_at.is_(None))

_USER_BY_ACCESS_TOKEN = (
    select(
        User.id,
        User.name,
        User.role,
        User.default_enterprise_id,
        UserSession.id,
        select(func.array_agg(UserEnterprise.enterprise_id))
        .where(UserEnterprise.user_id == User.id)
        .scalar_subquery(),
    )
    .join(UserSession, UserSession.user_id == User.id)
    .where(
        UserSession.access_hash == bindparam("token_hash"),
        UserSession.revoked_at.is_(None),
        UserSession.access_expires_at > bindparam("now"),
        User.revoked_at.is_(None),
    )
)

_api_clients = cast(Table, ApiClient.__table__)
_TOUCH_CLIENT = (
    update(_api_clients)
    .where(_api_clients.c.id == bindparam("client_id"))
    .values(last_used_at=bindparam("now"))
)


async def _api_client_caller(session: AsyncSession, token: str, now: datetime) -> Caller:
    row = (await session.execute(_CLIENT_BY_TOKEN, {"token_hash": hash_token(token)})).first()
    if row is None:
        raise Unauthorized("the bearer token is not valid or has been revoked")
    client_id, name, role, last_used_at, enterprise_ids = row
    if last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION:
        await session.execute(_TOUCH_CLIENT, {"client_id": client_id, "now": now})
        await session.commit()
    return Caller(
        id=client_id,
        kind="api_client",
        role=Role(role),
        name=name,
        enterprise_ids=frozenset(enterprise_ids or ()),
    )


async def _user_caller(session: AsyncSession, token: str, now: datetime) -> Caller:
    params = {"token_hash": hash_token(token), "now": now}
    row = (await session.execute(_USER_BY_ACCESS_TOKEN, params)).first()
    if row is None:
        raise Unauthorized("the access token is not valid, has expired or has been revoked")
    user_id, name, role, default_enterprise_id, session_id, enterprise_ids = row
    return Caller(
        id=user_id,
        kind="user",
        role=Role(role),
        name=name,
        enterprise_ids=frozenset(enterprise_ids or ()),
        default_enterprise_id=default_enterprise_id,
        session_id=session_id,
    )


def principal_of(kind: str, principal_id: uuid.UUID) -> str:
    return f"{kind}:{principal_id}"
