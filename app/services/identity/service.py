"""API clients and users: who may act for which enterprises."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TypeVar

from sqlalchemy import Select, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.core.caller_cache import callers_changed
from app.core.clock import Clock
from app.core.errors import Conflict, Forbidden, NotFound, field_error
from app.core.etag import check_if_match
from app.core.idempotency import IdempotencyClaim, commit_creation
from app.core.orm_pages import fetch_page
from app.core.pagination import Page, PageParams
from app.core.reads import read_of
from app.core.roles import Role, is_provider, may_grant
from app.core.row_versions import new_version
from app.core.security import API_CLIENT_PREFIX, hash_token, new_token, token_hint
from app.core.settings import Settings
from app.core.tenancy import Caller, one_or_404
from app.models import ApiClient, ApiClientEnterprise, Enterprise, User, UserEnterprise, UserSession
from app.services.identity import invitations
from app.services.identity.passwords import hash_password
from app.services.identity.rules import account_email
from app.services.identity.schemas import (
    ApiClientCreate,
    ApiClientCreated,
    ApiClientRead,
    UserCreate,
    UserRead,
    UserUpdate,
)


async def _check_grant(
    session: AsyncSession, caller: Caller, role: Role, enterprise_ids: Iterable[uuid.UUID]
) -> list[uuid.UUID]:
    """The enterprises a new identity may hold, as the caller is allowed to grant them."""
    wanted = list(dict.fromkeys(enterprise_ids))
    if not may_grant(caller.role, role):
        raise Forbidden(f"a {caller.role.value} may not grant the role {role.value}")
    for enterprise_id in wanted:
        caller.require_enterprise(enterprise_id)
    if wanted:
        found = set(
            (
                await session.execute(select(Enterprise.id).where(Enterprise.id.in_(wanted)))
            ).scalars()
        )
        missing = [e for e in wanted if e not in found]
        if missing:
            raise NotFound(f"enterprise {missing[0]} not found")
    if not is_provider(role) and not wanted:
        raise field_error("enterprise_ids", f"a {role.value} must act for at least one enterprise")
    if is_provider(role) and wanted:
        raise field_error(
            "enterprise_ids", "provider staff act for every enterprise; leave it empty"
        )
    return wanted


# API clients and users hold enterprises through link tables of the same
# shape; one filter and one loader serve both.
Identity = TypeVar("Identity", ApiClient, User)


def _identities_seen_by(
    caller: Caller,
    identity: type[Identity],
    owner: InstrumentedAttribute[uuid.UUID],
    enterprise: InstrumentedAttribute[uuid.UUID],
) -> Select[tuple[Identity]]:
    """Staff see everyone; a customer admin, those whose enterprises are all its own."""
    stmt = select(identity)
    if caller.is_provider:
        return stmt
    foreign = select(owner).where(
        owner == identity.id,
        enterprise.not_in(caller.enterprise_ids or [uuid.UUID(int=0)]),
    )
    own = select(owner).where(owner == identity.id)
    return stmt.where(own.exists() & ~foreign.exists())


async def _enterprises_held(
    session: AsyncSession,
    owner: InstrumentedAttribute[uuid.UUID],
    enterprise: InstrumentedAttribute[uuid.UUID],
    owner_ids: list[uuid.UUID],
) -> dict[uuid.UUID, list[uuid.UUID]]:
    rows = await session.execute(select(owner, enterprise).where(owner.in_(owner_ids)))
    out: dict[uuid.UUID, list[uuid.UUID]] = {o: [] for o in owner_ids}
    for owner_id, enterprise_id in rows:
        out[owner_id].append(enterprise_id)
    return out


def _clients_seen_by(caller: Caller) -> Select[tuple[ApiClient]]:
    return _identities_seen_by(
        caller, ApiClient, ApiClientEnterprise.api_client_id, ApiClientEnterprise.enterprise_id
    )


def _users_seen_by(caller: Caller) -> Select[tuple[User]]:
    return _identities_seen_by(caller, User, UserEnterprise.user_id, UserEnterprise.enterprise_id)


async def _enterprise_ids_of_clients(
    session: AsyncSession, client_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    return await _enterprises_held(
        session, ApiClientEnterprise.api_client_id, ApiClientEnterprise.enterprise_id, client_ids
    )


async def _user_enterprises(
    session: AsyncSession, user_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    return await _enterprises_held(
        session, UserEnterprise.user_id, UserEnterprise.enterprise_id, user_ids
    )


def _client_read(client: ApiClient, enterprise_ids: list[uuid.UUID]) -> ApiClientRead:
    return read_of(ApiClientRead, client, enterprise_ids=enterprise_ids)


async def create_api_client(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    claim: IdempotencyClaim | None,
    payload: ApiClientCreate,
) -> ApiClientCreated:
    enterprise_ids = await _check_grant(session, caller, payload.role, payload.enterprise_ids)
    client, token = await insert_api_client(
        session,
        clock,
        name=payload.name,
        role=payload.role,
        enterprise_ids=enterprise_ids,
        created_by=caller.actor,
    )
    answer = ApiClientCreated(**_client_read(client, enterprise_ids).model_dump(), token=token)
    await commit_creation(session, claim, answer)
    return answer


async def insert_api_client(
    session: AsyncSession,
    clock: Clock,
    *,
    name: str,
    role: Role,
    enterprise_ids: list[uuid.UUID],
    created_by: str | None,
    token: str | None = None,
) -> tuple[ApiClient, str]:
    token = token or new_token(API_CLIENT_PREFIX)
    client = ApiClient(
        id=uuid.uuid4(),
        name=name,
        role=role.value,
        token_hash=hash_token(token),
        token_hint=token_hint(token),
        created_by=created_by,
        created_at=clock.now(),
    )
    session.add(client)
    await session.flush()
    if enterprise_ids:
        await session.execute(
            insert(ApiClientEnterprise),
            [{"api_client_id": client.id, "enterprise_id": e} for e in enterprise_ids],
        )
    return client, token


async def list_api_clients(
    session: AsyncSession, caller: Caller, params: PageParams
) -> Page[ApiClientRead]:
    stmt = _clients_seen_by(caller)
    items, cursor = await fetch_page(session, stmt, params, ApiClient.created_at, ApiClient.id)
    enterprises = await _enterprise_ids_of_clients(session, [c.id for c in items])
    return Page(items=[_client_read(c, enterprises[c.id]) for c in items], next_cursor=cursor)


async def revoke_api_client(
    session: AsyncSession, caller: Caller, clock: Clock, client_id: uuid.UUID
) -> None:
    stmt = _clients_seen_by(caller).where(ApiClient.id == client_id)
    client = await one_or_404(session, stmt, "API client", client_id, lock=True)
    if not may_grant(caller.role, Role(client.role)):
        raise NotFound(f"API client {client_id} not found")
    if client.revoked_at is None:
        client.revoked_at = clock.now()
        await callers_changed(session)
    await session.commit()


def user_read(user: User, enterprise_ids: list[uuid.UUID]) -> UserRead:
    return read_of(UserRead, user, enterprise_ids=enterprise_ids)


def _check_default(default: uuid.UUID | None, enterprise_ids: list[uuid.UUID]) -> uuid.UUID | None:
    if default is None:
        return enterprise_ids[0] if enterprise_ids else None
    if default not in enterprise_ids:
        raise field_error("default_enterprise_id", "must be one of enterprise_ids")
    return default


async def create_user(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    settings: Settings,
    claim: IdempotencyClaim | None,
    payload: UserCreate,
) -> UserRead:
    """A new account; for an e-mail that has one already, an invitation to its owner
    (`invitations`), answered the same way, so the caller learns nothing of other tenants."""
    enterprise_ids = await _check_grant(session, caller, payload.role, payload.enterprise_ids)
    email = account_email(payload.email)
    now = clock.now()
    default = _check_default(payload.default_enterprise_id, enterprise_ids)
    taken = (
        await session.execute(select(User).where(User.email == email).with_for_update())
    ).scalar_one_or_none()
    if taken is not None:
        invitations.invite(session, caller, settings, taken, payload.role, enterprise_ids, now)
        answer = invitations.invitation_answer(
            taken.id, email, payload, enterprise_ids, default, now
        )
        await commit_creation(session, claim, answer)
        return answer
    user = User(
        id=uuid.uuid4(),
        email=email,
        name=payload.name,
        role=payload.role.value,
        language=payload.language,
        password_hash=await hash_password(payload.password) if payload.password else None,
        default_enterprise_id=default,
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(user)
    await session.flush()
    if enterprise_ids:
        await session.execute(
            insert(UserEnterprise),
            [{"user_id": user.id, "enterprise_id": e} for e in enterprise_ids],
        )
    answer = user_read(user, enterprise_ids)
    try:
        await commit_creation(session, claim, answer)
    except IntegrityError as exc:
        raise Conflict(f"a user with e-mail {email} already exists") from exc
    return answer


async def _load_user_for(
    session: AsyncSession, caller: Caller, user_id: uuid.UUID, *, for_update: bool = False
) -> User:
    stmt = _users_seen_by(caller).where(User.id == user_id)
    user = await one_or_404(session, stmt, "user", user_id, lock=for_update)
    if caller.id != user_id and not may_grant(caller.role, Role(user.role)):
        raise NotFound(f"user {user_id} not found")
    return user


async def get_user(session: AsyncSession, caller: Caller, user_id: uuid.UUID) -> UserRead:
    user = await _load_user_for(session, caller, user_id)
    return user_read(user, (await _user_enterprises(session, [user.id]))[user.id])


async def list_users(session: AsyncSession, caller: Caller, params: PageParams) -> Page[UserRead]:
    stmt = _users_seen_by(caller)
    items, cursor = await fetch_page(session, stmt, params, User.updated_at, User.id)
    enterprises = await _user_enterprises(session, [u.id for u in items])
    return Page(items=[user_read(u, enterprises[u.id]) for u in items], next_cursor=cursor)


async def update_user(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    user_id: uuid.UUID,
    payload: UserUpdate,
    if_match: str | None,
) -> UserRead:
    user = await _load_user_for(session, caller, user_id, for_update=True)
    check_if_match(if_match, user.version)
    current = (await _user_enterprises(session, [user.id]))[user.id]
    role = payload.role or Role(user.role)
    enterprise_ids = current
    if payload.role is not None or payload.enterprise_ids is not None:
        enterprise_ids = await _check_grant(
            session,
            caller,
            role,
            payload.enterprise_ids if payload.enterprise_ids is not None else current,
        )
    if payload.name is not None:
        user.name = payload.name
    if payload.language is not None:
        user.language = payload.language
    user.role = role.value
    if enterprise_ids != current:
        await session.execute(delete(UserEnterprise).where(UserEnterprise.user_id == user.id))
        if enterprise_ids:
            await session.execute(
                insert(UserEnterprise),
                [{"user_id": user.id, "enterprise_id": e} for e in enterprise_ids],
            )
    default = payload.default_enterprise_id
    if default is not None or user.default_enterprise_id not in enterprise_ids:
        user.default_enterprise_id = _check_default(default, enterprise_ids)
    new_version(user, clock.now())
    await callers_changed(session)
    await session.commit()
    return user_read(user, enterprise_ids)


async def revoke_user(
    session: AsyncSession, caller: Caller, clock: Clock, user_id: uuid.UUID
) -> None:
    user = await _load_user_for(session, caller, user_id, for_update=True)
    now = clock.now()
    if user.revoked_at is None:
        user.revoked_at = now
        new_version(user, now)
    await session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await callers_changed(session)
    await session.commit()
