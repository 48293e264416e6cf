"""Typed dependencies: an endpoint's signature says who may call it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Concatenate, ParamSpec, TypeVar

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.clock import Clock
from app.core.database import Db, pooled_driver
from app.core.errors import DRIVER_CONNECTION_ERRORS, Forbidden, Unauthorized
from app.core.etag import HasVersion, IfMatch, with_etag
from app.core.roles import Role
from app.core.settings import Settings
from app.core.tenancy import Caller


@asynccontextmanager
async def request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session of the app's pool. Services commit inside their unit of work; closing only
    returns the connection to the pool, so nothing can fail after the response is sent."""
    async with request.app.state.sessionmaker() as session:
        try:
            yield session
        except DRIVER_CONNECTION_ERRORS:
            # A hot path met a dead connection on the driver directly, where
            # SQLAlchemy could not see it: drop it from the pool, or the next
            # request would be handed the same corpse.
            await session.invalidate()
            raise


@asynccontextmanager
async def request_driver(request: Request) -> AsyncIterator[Db]:
    """For a route whose use case runs plain SQL on the driver only (intake, the hot reads): a
    connection of the app's pool with no session around it (`core.database.PooledDriver`).
    A test app's sessions share one connection inside the test's transaction: a session of
    it, then, so the statements join that transaction."""
    maker = request.app.state.sessionmaker
    engine = maker.kw.get("bind")
    if not isinstance(engine, AsyncEngine):
        async with request_session(request) as session:
            yield session
        return
    async with pooled_driver(engine, maker) as db:
        yield db


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request_session(request) as session:
        yield session


# Every dependency is `async def`: FastAPI runs a plain `def` dependency in a
# thread pool, a hop that costs more than the dependency itself on hot paths.
def app_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_clock(request: Request) -> Clock:
    return app_clock(request)


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[AsyncSession, Depends(get_session)]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]

Row = TypeVar("Row", bound=HasVersion)
P = ParamSpec("P")


@dataclass(frozen=True, slots=True)
class WriteContext:
    """What a write endpoint hands its use case besides the caller and the body: the session (the
    use case commits it) and the clock; and the response, so the answer carries its ETag."""

    session: AsyncSession
    clock: Clock
    response: Response

    def tagged(self, row: Row) -> Row:
        """Answer `row` with its `ETag` (see `app.core.etag.with_etag`)."""
        return with_etag(self.response, row)

    async def answer(
        self,
        use_case: Callable[Concatenate[AsyncSession, Caller, Clock, P], Awaitable[Row]],
        caller: Caller,
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> Row:
        """Run `use_case(session, caller, clock, *args)`, the order the use cases take them in,
        and answer the row it returns with its `ETag`."""
        return self.tagged(await use_case(self.session, caller, self.clock, *args, **kwargs))


@dataclass(frozen=True, slots=True)
class GuardedWriteContext(WriteContext):
    """A write that takes `If-Match`, the ETag last read (a stale one answers 412)."""

    if_match: str | None


async def get_write_context(
    session: SessionDep, clock: ClockDep, response: Response
) -> WriteContext:
    return WriteContext(session, clock, response)


async def get_guarded_write_context(
    session: SessionDep, clock: ClockDep, response: Response, if_match: IfMatch = None
) -> GuardedWriteContext:
    return GuardedWriteContext(session, clock, response, if_match)


# One parameter instead of `session, clock, response` (and `if_match`): `write: Write`.
Write = Annotated[WriteContext, Depends(get_write_context)]
GuardedWrite = Annotated[GuardedWriteContext, Depends(get_guarded_write_context)]

_BEARER = "An API client's token or a user's access token"
_bearer = HTTPBearer(auto_error=False, description=_BEARER)


# How a bearer token becomes a Caller is the identity feature's business; the
# app factory hands its resolver over, so the platform imports no feature.
CallerResolver = Callable[[AsyncSession, str, datetime], Awaitable[Caller]]
# The caller a token resolved to a moment ago, if it may still be trusted (no database).
RememberedCaller = Callable[[str, datetime], Caller | None]


# Where a request keeps the caller it resolved: a route's policy dependency and another
# dependency that needs the caller (`CurrentCaller`, e.g. `Idempotency`) resolve it once.
_CALLER = "carrierdesk.caller"


async def caller_of(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Caller:
    """The caller the request's bearer token stands for (401 without one)."""
    # Needs no session nor clock of the request's: a remembered caller (core.caller_cache)
    # needs neither, and each dependency is work FastAPI does on every request. A look-up
    # that reaches the database takes a session of its own for that one statement.
    known: Caller | None = request.scope.get(_CALLER)
    if known is not None:
        return known
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized()
    now = app_clock(request).now()
    remembered: RememberedCaller = request.app.state.remembered_caller
    caller = remembered(credentials.credentials, now)
    if caller is None:
        resolve: CallerResolver = request.app.state.resolve_caller
        async with request_session(request) as session:
            caller = await resolve(session, credentials.credentials, now)
    request.scope[_CALLER] = caller
    return caller


async def get_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    return await caller_of(request, credentials)


CurrentCaller = Annotated[Caller, Depends(get_caller)]

# The caller as its credentials stand now, None once they no longer hold.
CallerNow = Callable[[], Awaitable[Caller | None]]


async def get_caller_now(
    request: Request,
    clock: ClockDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> CallerNow:
    """For a long answer (an event stream): ask again, later, whether the request's bearer token
    still holds (a revoked client, an ended session, a removed user do not), with a session of
    its own held only for the question."""
    resolve: CallerResolver = request.app.state.resolve_caller

    async def caller_now() -> Caller | None:
        if credentials is None:
            return None
        async with request.app.state.sessionmaker() as session:
            try:
                return await resolve(session, credentials.credentials, clock.now())
            except Unauthorized:
                return None

    return caller_now


CallerNowDep = Annotated[CallerNow, Depends(get_caller_now)]


def refuse_unless(caller: Caller, roles: Iterable[Role], doing: str = "do this") -> None:
    """403 unless the caller holds one of `roles`: the one way a role decision is made."""
    if caller.role not in roles:
        raise Forbidden(f"the role {caller.role.value} may not {doing}")


@dataclass(frozen=True, slots=True)
class RoleCheck:
    """Who a policy dependency lets through, and what it calls the act."""

    roles: frozenset[Role]
    doing: str


# Every policy dependency by the callable FastAPI calls: the permission test generated from
# the route table and the security document read each route's roles here, so a route that
# declares no policy dependency is found, not silently open.
ROLE_CHECKS: dict[Callable[..., object], RoleCheck] = {}


class PolicyCheck(HTTPBearer):
    """A policy dependency in one step: the bearer token (documented as `_bearer` is), its
    caller, the role check. FastAPI solves every layer of a route's dependencies on every
    request, at a cost of its own, and even a cached layer's sub-dependencies again: one
    layer here where a check over `CurrentCaller` over the token made three."""

    def __init__(self, check: RoleCheck) -> None:
        # The scheme `_bearer`'s: the OpenAPI document names one scheme for every route.
        super().__init__(auto_error=False, description=_BEARER, scheme_name="HTTPBearer")
        self.check = check

    # FastAPI calls it with the request, as it calls HTTPBearer; it answers the caller.
    async def __call__(self, request: Request) -> Caller:  # type: ignore[override]
        caller = await caller_of(request, await super().__call__(request))
        refuse_unless(caller, self.check.roles, self.check.doing)
        return caller


def require_roles(*roles: Role, doing: str = "do this") -> PolicyCheck:
    """A dependency for a feature's policy: `Filer = Annotated[Caller, Depends(require_roles(
    *ROLES["file"], doing="file requests"))]`, so an endpoint's signature says who may call it."""
    check = PolicyCheck(RoleCheck(frozenset(roles), doing))
    ROLE_CHECKS[check] = check.check
    return check


# Every role: reads that tenancy, not the role, restricts.
EVERYONE = frozenset(Role)
# A carrier's client is machine to machine and tickets only (REST and its TMF621 face): every
# other feature's reads leave it out.
EVERYONE_BUT_CARRIERS = EVERYONE - {Role.carrier}


# A dependency that only authenticates; routes declare a feature policy's dependency instead.
AnyCaller = CurrentCaller
