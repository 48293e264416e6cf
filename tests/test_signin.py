"""People sign in from the portal: tokens, rotation, sign-out, lockout and reset links."""

from __future__ import annotations

import asyncio
import re
import threading
from datetime import timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.settings import Settings
from app.models import MailMessage, SigninThrottle
from app.services.delivery.mail_sender import send_due_mail
from app.services.identity import passwords
from app.services.identity.rules import ADDRESS_FREE_ATTEMPTS
from app.workers.context import WorkerContext
from app.workers.housekeeping import forget_stale_throttles
from app.workers.jobs import periodic_jobs
from tests.support.servers import Mail, smtp_server
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


async def _sent_mail(world: World, sessionmaker: async_sessionmaker[AsyncSession]) -> list[Mail]:
    """Send the mail due to a real SMTP server (aiosmtpd) and answer what it received."""
    with smtp_server() as mailbox:
        settings = Settings(env="test", smtp_url=mailbox.url)
        async with sessionmaker() as session:
            while await send_due_mail(session, world.clock, settings):
                pass
    return mailbox.mails


def _token_in(mail: Mail) -> str:
    match = re.search(r"token=(\S+)", mail.text)
    assert match is not None, mail.text
    return match.group(1)


async def _mailed_reset_token(world: World, sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    """Ask for a reset link for the test user and read its token from the mail received."""
    asked = await world.client.post("/v1/auth/password-reset", json={"email": "ana@acme.example"})
    assert asked.status_code == 202
    (mail,) = await _sent_mail(world, sessionmaker)
    return _token_in(mail)


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
    mails = await _sent_mail(world, sessionmaker)
    assert [m.recipient for m in mails] == [["ana@acme.example"]]
    assert mails[0].subject.startswith("Restablezca")
    token = _token_in(mails[0])
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
    token = await _mailed_reset_token(world, sessionmaker)
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


# Trust at every boundary: what a stranger can learn or break through sign-in.


async def test_unknown_account_is_answered_and_throttled_like_a_known_one(world: World) -> None:
    await _user(world)
    known = {"email": "ana@acme.example", "password": "not the password"}
    unknown = {"email": "nobody@acme.example", "password": "not the password"}
    answers = {}
    for name, attempt in (("known", known), ("unknown", unknown)):
        statuses = [
            (await world.client.post("/v1/auth/token", json=attempt)).status_code for _ in range(4)
        ]
        assert statuses == [401, 401, 401, 401], name
        answers[name] = await world.client.post("/v1/auth/token", json=attempt)
    assert answers["known"].status_code == answers["unknown"].status_code == 429
    assert answers["known"].json() == answers["unknown"].json()
    assert answers["known"].headers["retry-after"] == answers["unknown"].headers["retry-after"]
    assert answers["unknown"].headers["content-type"] == "application/problem+json"


async def test_one_address_guessing_many_accounts_is_slowed_down(world: World) -> None:
    await _user(world)
    for n in range(ADDRESS_FREE_ATTEMPTS + 1):  # the free ones, then the first that costs
        guess = {"email": f"guess{n}@acme.example", "password": "123456"}
        assert (await world.client.post("/v1/auth/token", json=guess)).status_code == 401
    slowed = await world.client.post(
        "/v1/auth/token", json={"email": "another@acme.example", "password": "123456"}
    )
    assert slowed.status_code == 429
    assert int(slowed.headers["retry-after"]) >= 1
    world.clock.advance(timedelta(minutes=2))
    signed = await world.client.post(
        "/v1/auth/token", json={"email": "ana@acme.example", "password": PASSWORD}
    )
    assert signed.status_code == 200


async def test_a_reset_link_unlocks_an_account_an_attacker_locked(
    world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _user(world)
    wrong = {"email": "ana@acme.example", "password": "not the password"}
    for _ in range(10):
        world.clock.advance(timedelta(minutes=2))
        await world.client.post("/v1/auth/token", json=wrong)
    assert (await world.client.post("/v1/auth/token", json=wrong)).status_code == 429
    token = await _mailed_reset_token(world, sessionmaker)
    new_password = "a brand new passphrase"
    done = await world.client.post(
        "/v1/auth/password-reset/confirm", json={"token": token, "new_password": new_password}
    )
    assert done.status_code == 204
    signed = await world.client.post(
        "/v1/auth/token", json={"email": "ana@acme.example", "password": new_password}
    )
    assert signed.status_code == 200


async def test_replaying_a_rotated_refresh_token_ends_the_whole_family(world: World) -> None:
    await _user(world)
    credentials = {"email": "ana@acme.example", "password": PASSWORD}
    stolen = (await world.client.post("/v1/auth/token", json=credentials)).json()
    other_device = (await world.client.post("/v1/auth/token", json=credentials)).json()
    thief = await world.client.post(
        "/v1/auth/refresh", json={"refresh_token": stolen["refresh_token"]}
    )
    assert thief.status_code == 200
    replayed = await world.client.post(
        "/v1/auth/refresh", json={"refresh_token": stolen["refresh_token"]}
    )
    assert replayed.status_code == 401
    thiefs = thief.json()
    me = await world.client.get("/v1/me", headers=bearer(thiefs["access_token"]))
    assert me.status_code == 401
    renewed = await world.client.post(
        "/v1/auth/refresh", json={"refresh_token": thiefs["refresh_token"]}
    )
    assert renewed.status_code == 401
    assert (
        await world.client.get("/v1/me", headers=bearer(other_device["access_token"]))
    ).status_code == 200


def _recording_argon2(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Patch argon2 to note the thread each hash or verification runs on."""
    threads: list[int] = []
    for name in ("hash", "verify"):
        original = getattr(PasswordHasher, name)

        def recorded(self: PasswordHasher, *args: Any, _original: Any = original) -> Any:
            threads.append(threading.get_ident())
            return _original(self, *args)

        monkeypatch.setattr(PasswordHasher, name, recorded)
    return threads


async def test_password_hashing_runs_off_the_event_loop(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = _recording_argon2(monkeypatch)
    await _user(world)
    await world.client.post(
        "/v1/auth/token", json={"email": "ana@acme.example", "password": PASSWORD}
    )
    await world.client.post("/v1/auth/token", json={"email": "x@nowhere.example", "password": "x"})
    assert len(threads) == 3  # the new user's hash, then one verification per sign-in
    assert threading.get_ident() not in threads


async def test_password_checks_run_a_bounded_number_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()
    lock = threading.Lock()
    running = [0]
    most = [0]

    def blocking_verify(self: PasswordHasher, *args: Any) -> bool:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        release.wait(timeout=30)
        with lock:
            running[0] -= 1
        return True

    monkeypatch.setattr(PasswordHasher, "verify", blocking_verify)
    checks = [
        asyncio.ensure_future(passwords.verify_password(None, "x"))
        for _ in range(passwords.CONCURRENT_HASHES + 3)
    ]
    deadline = asyncio.get_running_loop().time() + 20
    while running[0] < passwords.CONCURRENT_HASHES:
        assert asyncio.get_running_loop().time() < deadline, "no check started"
        await asyncio.sleep(0.01)
    release.set()
    assert await asyncio.gather(*checks) == [False] * len(checks)  # no account: never a match
    assert most[0] == passwords.CONCURRENT_HASHES


async def test_stale_sign_in_counters_are_removed_by_the_worker_job(
    world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async def counters() -> int:
        async with sessionmaker() as session:
            rows = (await session.execute(select(SigninThrottle.key_hash))).scalars().all()
            return len(rows)

    # A flood of made-up names, each a counter (and the address's).
    for n in range(5):
        guess = {"email": f"made-up-{n}@nowhere.example", "password": "123456"}
        assert (await world.client.post("/v1/auth/token", json=guess)).status_code == 401
    flooded = await counters()
    assert flooded >= 5
    assert any(job.run is forget_stale_throttles for job in periodic_jobs())
    context = WorkerContext(Settings(env="test"), "unused", sessionmaker, world.clock)

    # A while later they are still counted; a day after the last attempt they are gone, but
    # a name tried since stays counted.
    world.clock.advance(timedelta(hours=1))
    assert await forget_stale_throttles(context) == 0
    world.clock.advance(timedelta(hours=23, minutes=1))
    recent = {"email": "recent@nowhere.example", "password": "123456"}
    assert (await world.client.post("/v1/auth/token", json=recent)).status_code == 401
    assert await forget_stale_throttles(context) == flooded - 1  # the address counter is fresh
    assert await counters() == 2  # the recent name and the address it came from


async def test_the_mail_log_keeps_no_usable_reset_link(
    world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _user(world)
    token = await _mailed_reset_token(world, sessionmaker)  # the mail sent carries it
    async with sessionmaker() as session:
        (kept,) = (await session.execute(select(MailMessage))).scalars().all()
    assert kept.status == "sent"
    assert token not in kept.body
    assert "token=" not in kept.body
    assert kept.one_time_link is None
    log = await world.client.get("/v1/mail-messages", headers=world.admin)
    assert log.status_code == 200
    assert [m["id"] for m in log.json()["items"]] == [str(kept.id)]
    assert token not in log.text
    # The link still works: it was only left out of what is kept.
    done = await world.client.post(
        "/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": "a brand new passphrase"},
    )
    assert done.status_code == 204
