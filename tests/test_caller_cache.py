"""Remembered callers: a revoked or changed token stops resolving as it did within a second, in
every `serve` process, and nothing is remembered while a change could go unheard."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.caller_cache import CallerCache, callers_changed
from app.core.clock import FrozenClock
from app.core.database import as_libpq_url, create_engine, create_sessionmaker
from app.core.errors import Unauthorized
from app.core.roles import Role
from app.core.tenancy import Caller
from app.services.identity.authentication import resolve_caller_until
from app.services.identity.service import insert_api_client
from tests.support.processes import Fleet, wait_until
from tests.support.world import USER_PASSWORD, World, bearer

# The promise: a revocation holds everywhere within one second.
REVOCATION_BOUND = 1.0


def _status(base: str, path: str, headers: dict[str, str]) -> int:
    return httpx.get(base + path, headers=headers, timeout=5).status_code


def _refused_within_bound(base: str, path: str, headers: dict[str, str], what: str) -> None:
    wait_until(
        lambda: _status(base, path, headers) == 401,
        timeout=REVOCATION_BOUND,
        interval=0.02,
        what=what,
    )


def test_a_revocation_through_one_serve_holds_in_another_within_a_second(fleet: Fleet) -> None:
    one, other = fleet.api(), fleet.api()
    one.wait_ready()
    other.wait_ready()
    admin = fleet_admin = {"Authorization": f"Bearer {fleet.admin_token}"}
    with httpx.Client(base_url=one.base_url, headers=admin, timeout=30) as c:
        acme = c.post("/v1/enterprises", json={"name": "Acme", "country": "EC"}).json()["id"]
        created = c.post(
            "/v1/api-clients",
            json={"name": "noc robot", "role": "customer_user", "enterprise_ids": [acme]},
        )
        assert created.status_code == 201, created.text
        robot, robot_id = bearer(created.json()["token"]), created.json()["id"]
        email = f"person-{uuid.uuid4().hex[:8]}@acme.example"
        person = c.post(
            "/v1/users",
            json={
                "email": email,
                "name": "Person",
                "role": "customer_admin",
                "enterprise_ids": [acme],
                "password": USER_PASSWORD,
            },
        )
        assert person.status_code == 201, person.text
        person_id = person.json()["id"]

    refresh_tokens: list[str] = []

    def signed_in() -> dict[str, str]:
        pair = httpx.post(
            one.base_url + "/v1/auth/token",
            json={"email": email, "password": USER_PASSWORD},
            timeout=30,
        )
        assert pair.status_code == 200, pair.text
        refresh_tokens.append(pair.json()["refresh_token"])
        return bearer(pair.json()["access_token"])

    # The other process resolves (and remembers) each token before it changes.
    tokens = {"robot": robot, "signed out": signed_in(), "revoked": signed_in()}
    tokens["refreshed"] = signed_in()
    for headers in tokens.values():
        for _ in range(3):
            assert _status(other.base_url, "/v1/me", headers) == 200

    # An API client revoked through one process.
    assert (
        httpx.delete(
            f"{one.base_url}/v1/api-clients/{robot_id}", headers=admin, timeout=30
        ).status_code
        == 204
    )
    _refused_within_bound(other.base_url, "/v1/me", robot, "the revoked client refused")

    # A session signed out through one process.
    out = httpx.post(one.base_url + "/v1/auth/logout", headers=tokens["signed out"], timeout=30)
    assert out.status_code == 204, out.text
    _refused_within_bound(other.base_url, "/v1/me", tokens["signed out"], "signed out refused")

    # A session refreshed through one process: its old access token ends.
    traded = httpx.post(
        one.base_url + "/v1/auth/refresh", json={"refresh_token": refresh_tokens[-1]}, timeout=30
    )
    assert traded.status_code == 200, traded.text
    _refused_within_bound(other.base_url, "/v1/me", tokens["refreshed"], "refreshed refused")

    # A person's role changed through one process: the other answers with the new role.
    before = httpx.get(other.base_url + "/v1/me", headers=tokens["revoked"], timeout=5).json()
    assert before["role"] == "customer_admin"
    user = httpx.get(f"{one.base_url}/v1/users/{person_id}", headers=fleet_admin, timeout=30)
    changed = httpx.patch(
        f"{one.base_url}/v1/users/{person_id}",
        json={"role": "customer_user"},
        headers={**fleet_admin, "If-Match": user.headers["ETag"]},
        timeout=30,
    )
    assert changed.status_code == 200, changed.text
    wait_until(
        lambda: (
            httpx.get(other.base_url + "/v1/me", headers=tokens["revoked"], timeout=5)
            .json()
            .get("role")
            == "customer_user"
        ),
        timeout=REVOCATION_BOUND,
        interval=0.02,
        what="the new role seen by the other process",
    )

    # The person revoked through one process.
    gone = httpx.delete(f"{one.base_url}/v1/users/{person_id}", headers=fleet_admin, timeout=30)
    assert gone.status_code == 204, gone.text
    _refused_within_bound(other.base_url, "/v1/me", tokens["revoked"], "revoked user refused")


# --- the cache's own state machine, on the real resolver ------------------------------------


class _Counting:
    """The real resolver, counting the look-ups that reach the database; `during` runs in the
    middle of one (a NOTIFY arriving while a look-up is in flight)."""

    def __init__(self) -> None:
        self.calls = 0
        self.during: Callable[[], None] | None = None

    async def __call__(
        self, session: AsyncSession, token: str, now: datetime
    ) -> tuple[Caller, datetime | None]:
        self.calls += 1
        answer = await resolve_caller_until(session, token, now)
        if self.during is not None:
            self.during()
        return answer


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def test_callers_are_remembered_only_while_the_listener_hears_changes(
    world: World, session: AsyncSession
) -> None:
    token = _token(world.admin)
    resolver = _Counting()
    cache = CallerCache(resolver)
    now = world.clock.now()

    # Not listening yet: every request asks the database, nothing is kept.
    await cache.resolve(session, token, now)
    await cache.resolve(session, token, now)
    assert (resolver.calls, len(cache)) == (2, 0)

    cache.listener_connected()
    first = await cache.resolve(session, token, now)
    again = await cache.resolve(session, token, now)
    assert again == first
    assert resolver.calls == 3

    cache.forget_all()  # a NOTIFY
    await cache.resolve(session, token, now)
    assert resolver.calls == 4

    # A NOTIFY during a look-up: what it read may predate the change, so it is not kept.
    cache.forget_all()
    resolver.during = cache.forget_all
    await cache.resolve(session, token, now)
    resolver.during = None
    assert len(cache) == 0
    await cache.resolve(session, token, now)
    assert resolver.calls == 6

    # The listener lost: forget everything and keep nothing until it is back.
    cache.listener_lost()
    assert len(cache) == 0
    await cache.resolve(session, token, now)
    await cache.resolve(session, token, now)
    assert (resolver.calls, len(cache)) == (8, 0)
    # Lost during a look-up: not kept either, even once it is back.
    cache.listener_connected()
    resolver.during = cache.listener_lost
    await cache.resolve(session, token, now)
    resolver.during = None
    assert len(cache) == 0


async def test_a_remembered_access_token_still_expires(world: World, session: AsyncSession) -> None:
    person = await world.user("customer_user", (await world.enterprise())["id"])
    resolver = _Counting()
    cache = CallerCache(resolver)
    cache.listener_connected()
    now = world.clock.now()
    await cache.resolve(session, _token(person), now)
    await cache.resolve(session, _token(person), now)
    assert resolver.calls == 1
    # Past its expiry the token is asked about again, and the database refuses it.
    later = now + timedelta(days=1)
    with pytest.raises(Unauthorized):
        await cache.resolve(session, _token(person), later)
    assert resolver.calls == 2


async def test_the_listener_forgets_on_notify_and_distrusts_a_lost_connection(
    fresh_database: str, clock: FrozenClock
) -> None:
    engine = create_engine(fresh_database, pool_size=2)
    maker: async_sessionmaker[AsyncSession] = create_sessionmaker(engine)
    cache = CallerCache(resolve_caller_until)
    listener = asyncio.create_task(cache.listen_forever(fresh_database))
    try:
        await _until(lambda: cache.listening, "the listener connected")
        async with maker() as session:
            await _remember_someone(cache, session, clock.now())
            assert len(cache) == 1
            # A change committed elsewhere: the NOTIFY empties the cache.
            await callers_changed(session)
            await session.commit()
        await _until(lambda: len(cache) == 0, "the NOTIFY heard")

        async with maker() as session:
            await _remember_someone(cache, session, clock.now())
        # The listen connection dies (as in a database restart): distrusted at once,
        # trusted again only once the LISTEN is back.
        seen: list[bool] = []
        original = cache.listener_lost

        def lost() -> None:
            seen.append(True)
            original()

        cache.listener_lost = lost  # type: ignore[method-assign]
        killer = await asyncpg.connect(as_libpq_url(fresh_database))
        try:
            await killer.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'carrierdesk-callers' AND datname = current_database()"
            )
        finally:
            await killer.close()
        await _until(lambda: bool(seen), "the lost connection noticed")
        assert len(cache) == 0
        await _until(lambda: cache.listening, "the listener reconnected")
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await engine.dispose()
    assert not cache.listening


async def _remember_someone(cache: CallerCache, session: AsyncSession, now: datetime) -> None:
    _client, token = await insert_api_client(
        session, FrozenClock(now), name="someone", role=Role.provider_admin, enterprise_ids=[],
        created_by="test",
    )  # fmt: skip
    await session.commit()
    await cache.resolve(session, token, now)


async def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
