"""A customer administrator adds an e-mail that already has an account elsewhere.

As Control Center does: the administrator is answered as for a new e-mail (and sees nothing
more in the mail log), the owner receives an invitation over SMTP, and once it is accepted the
same account, with its own password, acts for both enterprises. A wrong, used or expired link
is refused and changes nothing.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.roles import Role
from app.core.settings import Settings
from app.models import MailMessage
from app.services.delivery.mail_sender import send_due_mail
from app.services.identity.invitations import INVITATION_VALID_FOR
from app.services.identity.rules import invitation_fits_role
from tests.support.servers import Mail, smtp_server
from tests.support.tickets import make_desk
from tests.support.world import World, bearer

PASSWORD = "correct horse battery staple"
ANA = "ana@other.example"


async def _ana_elsewhere(world: World, role: str = "customer_user") -> dict[str, Any]:
    """Ana has an account, with a password, in another enterprise."""
    other = await world.enterprise("Other Telecom", "PE")
    made = await world.client.post(
        "/v1/users",
        json={
            "email": ANA,
            "name": "Ana",
            "role": role,
            "enterprise_ids": [other["id"]],
            "password": PASSWORD,
        },
        headers=world.admin,
    )
    assert made.status_code == 201, made.text
    return other


def _added(enterprise_id: str, email: str) -> dict[str, Any]:
    return {
        "email": email,
        "name": "Ana from the NOC",
        "role": "customer_user",
        "enterprise_ids": [enterprise_id],
    }


async def _sent(world: World, sessionmaker: async_sessionmaker[AsyncSession]) -> list[Mail]:
    with smtp_server() as mailbox:
        settings = Settings(env="test", smtp_url=mailbox.url)
        async with sessionmaker() as session:
            while await send_due_mail(session, world.clock, settings):
                pass
    return mailbox.mails


def _token(mail: Mail) -> str:
    match = re.search(r"accept-invitation\?token=(\S+)", mail.text)
    assert match is not None, mail.text
    return match.group(1)


async def _me(world: World) -> dict[str, Any]:
    tokens = await world.client.post("/v1/auth/token", json={"email": ANA, "password": PASSWORD})
    assert tokens.status_code == 200, tokens.text
    me = await world.client.get("/v1/me", headers=bearer(tokens.json()["access_token"]))
    body: dict[str, Any] = me.json()
    body["headers"] = bearer(tokens.json()["access_token"])
    return body


async def test_adding_an_email_registered_elsewhere_answers_as_for_a_new_one(
    world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _ana_elsewhere(world)
    acme = await world.enterprise("Acme Invitations", "EC")
    admin = await world.api_client(Role.customer_admin, acme["id"])

    known = await world.client.post("/v1/users", json=_added(acme["id"], ANA), headers=admin)
    new = await world.client.post(
        "/v1/users", json=_added(acme["id"], "new@acme.example"), headers=admin
    )
    assert known.status_code == new.status_code == 201, (known.text, new.text)
    assert known.headers["content-type"] == new.headers["content-type"]
    same = {k: v for k, v in known.json().items() if k not in ("id", "email")}
    assert same == {k: v for k, v in new.json().items() if k not in ("id", "email")}
    assert known.json()["email"] == ANA
    # The mail log shows the administrator nothing that a new account would not have.
    log = await world.client.get("/v1/mail-messages", headers=admin)
    assert log.json()["items"] == []


async def test_accepting_the_invitation_lets_the_same_account_act_for_both_enterprises(
    world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    other = await _ana_elsewhere(world)
    desk = await make_desk(world)  # Acme's desk: a service and its tickets
    ticket = await desk.open()
    admin = await world.api_client(Role.customer_admin, desk.enterprise["id"])
    added = await world.client.post(
        "/v1/users", json=_added(desk.enterprise["id"], ANA), headers=admin
    )
    assert added.status_code == 201

    before = await _me(world)
    assert before["enterprise_ids"] == [other["id"]]
    unseen = await world.client.get(f"/v1/tickets/{ticket['id']}", headers=before["headers"])
    assert unseen.status_code == 404

    (mail,) = await _sent(world, sessionmaker)
    assert mail.recipient == [ANA]
    token = _token(mail)
    async with sessionmaker() as session:
        kept = (await session.execute(select(MailMessage))).scalars().one()
    assert token not in kept.body  # the log keeps no link
    assert kept.one_time_link is None

    accepted = await world.client.post("/v1/auth/invitations/accept", json={"token": token})
    assert accepted.status_code == 204, accepted.text

    after = await _me(world)  # the same password, the same account
    assert after["id"] == before["id"] == added.json()["id"]
    assert sorted(after["enterprise_ids"]) == sorted([other["id"], desk.enterprise["id"]])
    seen = await world.client.get(f"/v1/tickets/{ticket['id']}", headers=after["headers"])
    assert seen.status_code == 200
    opened = await world.client.post(
        "/v1/tickets",
        json={
            "service_id": desk.service["id"],
            "severity": "minor",
            "summary": "Filed by Ana for Acme",
            "contact": {"name": "Ana"},
        },
        headers=after["headers"],
    )
    assert opened.status_code == 201, opened.text
    assert opened.json()["enterprise_id"] == desk.enterprise["id"]


async def test_a_wrong_used_or_expired_invitation_is_refused(
    world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _ana_elsewhere(world)
    acme = await world.enterprise("Acme Invitations", "EC")
    later = await world.enterprise("Later Telecom", "EC")
    admin = await world.api_client(Role.customer_admin, acme["id"])
    await world.client.post("/v1/users", json=_added(acme["id"], ANA), headers=admin)
    (mail,) = await _sent(world, sessionmaker)
    token = _token(mail)

    wrong = await world.client.post(
        "/v1/auth/invitations/accept", json={"token": token[:-2] + "xx"}
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "token"
    assert acme["id"] not in (await _me(world))["enterprise_ids"]

    assert (
        await world.client.post("/v1/auth/invitations/accept", json={"token": token})
    ).status_code == 204
    used = await world.client.post("/v1/auth/invitations/accept", json={"token": token})
    assert used.status_code == 422

    later_admin = await world.api_client(Role.customer_admin, later["id"])
    await world.client.post("/v1/users", json=_added(later["id"], ANA), headers=later_admin)
    (late_mail,) = await _sent(world, sessionmaker)
    world.clock.advance(INVITATION_VALID_FOR + timedelta(minutes=1))
    expired = await world.client.post(
        "/v1/auth/invitations/accept", json={"token": _token(late_mail)}
    )
    assert expired.status_code == 422
    assert later["id"] not in (await _me(world))["enterprise_ids"]


def test_an_account_joins_only_where_its_one_role_gives_no_more_than_granted() -> None:
    assert invitation_fits_role(Role.customer_user, Role.customer_user)
    assert invitation_fits_role(Role.customer_user, Role.customer_admin)
    assert invitation_fits_role(Role.customer_admin, Role.customer_admin)
    assert not invitation_fits_role(Role.customer_admin, Role.customer_user)
    assert not invitation_fits_role(Role.provider_admin, Role.customer_user)


async def test_an_administrator_elsewhere_invited_as_a_user_cannot_gain_administration(
    world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _ana_elsewhere(world, role="customer_admin")
    acme = await world.enterprise("Acme Invitations", "EC")
    admin = await world.api_client(Role.customer_admin, acme["id"])
    added = await world.client.post("/v1/users", json=_added(acme["id"], ANA), headers=admin)
    assert added.status_code == 201  # answered as for anyone
    (mail,) = await _sent(world, sessionmaker)
    refused = await world.client.post("/v1/auth/invitations/accept", json={"token": _token(mail)})
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert acme["id"] not in (await _me(world))["enterprise_ids"]
