"""Open event streams end with their caller's credentials, are capped per caller, and hold no
pooled database connection while they wait. A real SSE client reads a real uvicorn."""

from __future__ import annotations

import contextlib

from app.core.settings import Settings
from tests.support.live_app import live_app
from tests.support.servers import eventually, serve
from tests.support.streams import open_stream
from tests.support.world import World, bearer

PASSWORD = "correct horse battery staple"


def _settings(**overrides: object) -> Settings:
    return Settings(
        env="test",
        database_url="postgresql+asyncpg://unused/unused",
        stream_recheck_seconds=0.1,  # ask again often: the test waits for seconds, not minutes
        stream_poll_seconds=0.1,
        **overrides,  # type: ignore[arg-type]
    )


async def _customer_client(world: World) -> tuple[str, dict[str, str]]:
    acme = await world.enterprise()
    made = await world.client.post(
        "/v1/api-clients",
        json={"name": "NOC wall", "role": "customer_user", "enterprise_ids": [acme["id"]]},
        headers=world.admin,
    )
    assert made.status_code == 201, made.text
    return made.json()["id"], bearer(made.json()["token"])


async def test_revoking_an_api_client_ends_its_open_stream(fresh_database: str) -> None:
    async with live_app(fresh_database, _settings()) as (world, app), serve(app) as port:
        client_id, headers = await _customer_client(world)
        async with open_stream(f"http://127.0.0.1:{port}", headers) as stream:
            assert stream.status == 200
            revoked = await world.client.delete(f"/v1/api-clients/{client_id}", headers=world.admin)
            assert revoked.status_code == 204
            await eventually(lambda: stream.ended)


async def _signed_in_user(world: World) -> tuple[str, dict[str, str]]:
    acme = await world.enterprise()
    user = await world.client.post(
        "/v1/users",
        json={
            "email": "ana@acme.example",
            "name": "NOC lead",
            "role": "customer_admin",
            "language": "es",
            "enterprise_ids": [acme["id"]],
            "password": PASSWORD,
        },
        headers=world.admin,
    )
    assert user.status_code == 201, user.text
    tokens = await world.client.post(
        "/v1/auth/token", json={"email": "ana@acme.example", "password": PASSWORD}
    )
    assert tokens.status_code == 200, tokens.text
    return user.json()["id"], bearer(tokens.json()["access_token"])


async def test_signing_out_ends_the_users_open_stream(fresh_database: str) -> None:
    async with live_app(fresh_database, _settings()) as (world, app), serve(app) as port:
        _, headers = await _signed_in_user(world)
        async with open_stream(f"http://127.0.0.1:{port}", headers) as stream:
            assert stream.status == 200
            out = await world.client.post("/v1/auth/logout", headers=headers)
            assert out.status_code == 204
            await eventually(lambda: stream.ended)


async def test_removing_a_user_ends_their_open_stream(fresh_database: str) -> None:
    async with live_app(fresh_database, _settings()) as (world, app), serve(app) as port:
        user_id, headers = await _signed_in_user(world)
        async with open_stream(f"http://127.0.0.1:{port}", headers) as stream:
            assert stream.status == 200
            removed = await world.client.delete(f"/v1/users/{user_id}", headers=world.admin)
            assert removed.status_code == 204, removed.text
            await eventually(lambda: stream.ended)


async def test_a_caller_past_the_stream_cap_is_answered_429_naming_it(
    fresh_database: str,
) -> None:
    settings = _settings(stream_max_per_caller=2)
    async with live_app(fresh_database, settings) as (world, app), serve(app) as port:
        _, headers = await _customer_client(world)
        base = f"http://127.0.0.1:{port}"
        async with open_stream(base, headers) as one, open_stream(base, headers) as two:
            assert (one.status, two.status) == (200, 200)
            async with open_stream(base, headers) as three:
                assert three.status == 429
                assert three.problem is not None
                assert "at most 2 open event streams" in three.problem["detail"]
        # Closed streams free their places.
        async with open_stream(base, headers) as again:
            assert again.status == 200


async def test_idle_streams_hold_no_pooled_connection(fresh_database: str) -> None:
    # Two connections in all (pool 1, overflow 1), four streams resuming from an event id.
    async with (
        live_app(fresh_database, _settings(), pool_size=1) as (world, app),
        serve(app) as port,
    ):
        _, headers = await _customer_client(world)
        base = f"http://127.0.0.1:{port}"
        async with contextlib.AsyncExitStack() as streams:
            for _ in range(4):
                stream = await streams.enter_async_context(
                    open_stream(base, {**headers, "Last-Event-ID": "0"})
                )
                assert stream.status == 200
            answer = await world.client.get("/v1/enterprises", headers=world.admin)
            assert answer.status_code == 200, answer.text
