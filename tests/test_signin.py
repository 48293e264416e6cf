"""People sign in from the portal: tokens, rotation, sign-out, lockout and reset links."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import MailMessage
from tests.support.world import World, bearer

PASSWORD = "correct horse battery staple"


async def _user(world: World, email: str = "ana@acme.example") -> dict[str, object]:
    acme = await world.enterprise()
    response = await world.client.post(
        "/v1/users",
        json={
            "email": email,
            "name": "NOC lead",
            "role": "customer_admin",
            "language": "es",
            "enterprise_ids": [acme["id"]],
            "password": PASSWORD,
        },
        headers=world.admin,
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def test_sign_in_gives_tokens_that_act_for_the_users_enterprises(world: World) -> None:
    user = await _user(world)
    tokens = await world.client.post(
        "/v1/auth/token", json={"email": "ANA@acme.example", "password": PASSWORD}
    )
    assert tokens.status_code == 200
    me = await world.client.get("/v1/me", headers=bearer(tokens.json()["access_token"]))
    assert me.json()["id"] == user["id"]
    assert me.json()["enterprise_ids"] == user["enterprise_ids"]


async def test_access_token_expires_and_refresh_rotates(world: World) -> None:
    await _user(world)
    first = (
        await world.client.post(
            "/v1/auth/token", json={"email": "ana@acme.example", "password": PASSWORD}
        )
    ).json()
    world.clock.advance(timedelta(minutes=16))
    expired = await world.client.get("/v1/me", headers=bearer(first["access_token"]))
    assert expired.status_code == 401
    second = await world.client.post(
        "/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert second.status_code == 200
    assert (
        await world.client.get("/v1/me", headers=bearer(second.json()["access_token"]))
    ).status_code == 200
    reused = await world.client.post(
        "/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert reused.status_code == 401


async def test_sign_out_revokes_both_tokens(world: World) -> None:
    await _user(world)
    pair = (
        await world.client.post(
            "/v1/auth/token", json={"email": "ana@acme.example", "password": PASSWORD}
        )
    ).json()
    out = await world.client.post("/v1/auth/logout", headers=bearer(pair["access_token"]))
    assert out.status_code == 204
    assert (
        await world.client.get("/v1/me", headers=bearer(pair["access_token"]))
    ).status_code == 401
    refreshed = await world.client.post(
        "/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert refreshed.status_code == 401


async def test_repeated_failures_slow_down_then_lock(world: World) -> None:
    await _user(world)
    wrong = {"email": "ana@acme.example", "password": "not the password"}
    statuses = [
        (await world.client.post("/v1/auth/token", json=wrong)).status_code for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 401]
    throttled = await world.client.post("/v1/auth/token", json={**wrong, "password": PASSWORD})
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) >= 1
    for _ in range(6):
        world.clock.advance(timedelta(minutes=2))
        await world.client.post("/v1/auth/token", json=wrong)
    world.clock.advance(timedelta(minutes=5))
    locked = await world.client.post("/v1/auth/token", json={**wrong, "password": PASSWORD})
    assert locked.status_code == 429
    world.clock.advance(timedelta(minutes=15))
    assert (
        await world.client.post("/v1/auth/token", json={**wrong, "password": PASSWORD})
    ).status_code == 200


async def test_unknown_email_and_wrong_password_look_the_same(world: World) -> None:
    await _user(world)
    unknown = await world.client.post(
        "/v1/auth/token", json={"email": "x@nowhere.example", "password": "x"}
    )
    wrong = await world.client.post(
        "/v1/auth/token", json={"email": "ana@acme.example", "password": "x"}
    )
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["detail"] == wrong.json()["detail"]


async def test_password_reset_link_is_mailed_in_the_users_language_and_single_use(
    world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _user(world)
    asked = await world.client.post("/v1/auth/password-reset", json={"email": "ana@acme.example"})
    assert asked.status_code == 202
    nobody = await world.client.post(
        "/v1/auth/password-reset", json={"email": "ghost@acme.example"}
    )
    assert nobody.status_code == 202
    async with sessionmaker() as session:
        mails = (await session.execute(select(MailMessage))).scalars().all()
    assert [m.recipient for m in mails] == ["ana@acme.example"]
    assert mails[0].subject.startswith("Restablezca")
    match = re.search(r"token=(\S+)", mails[0].body)
    assert match is not None
    token = match.group(1)
    new_password = "a brand new passphrase"
    done = await world.client.post(
        "/v1/auth/password-reset/confirm", json={"token": token, "new_password": new_password}
    )
    assert done.status_code == 204
    again = await world.client.post(
        "/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": "another passphrase!"},
    )
    assert again.status_code == 422
    signed = await world.client.post(
        "/v1/auth/token", json={"email": "ana@acme.example", "password": new_password}
    )
    assert signed.status_code == 200


async def test_reset_link_expires_after_an_hour(
    world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _user(world)
    await world.client.post("/v1/auth/password-reset", json={"email": "ana@acme.example"})
    async with sessionmaker() as session:
        body = (await session.execute(select(MailMessage.body))).scalar_one()
    token = re.search(r"token=(\S+)", body).group(1)  # type: ignore[union-attr]
    world.clock.advance(timedelta(minutes=61))
    late = await world.client.post(
        "/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": "a brand new passphrase"},
    )
    assert late.status_code == 422
    assert late.json()["errors"][0]["field"] == "token"


async def test_revoked_user_cannot_sign_in(world: World) -> None:
    user = await _user(world)
    assert (
        await world.client.delete(f"/v1/users/{user['id']}", headers=world.admin)
    ).status_code == 204
    refused = await world.client.post(
        "/v1/auth/token", json={"email": "ana@acme.example", "password": PASSWORD}
    )
    assert refused.status_code == 401
