"""Build test tenants through the API itself, the way an administrator would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import FrozenClock
from app.core.roles import Role
from app.services.identity.service import insert_api_client

# Every person the tests sign in uses it: it is the password, not the account, under test.
USER_PASSWORD = "correct horse battery staple"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class World:
    client: httpx.AsyncClient
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: FrozenClock
    admin: dict[str, str] = field(default_factory=dict)
    _codes: int = 0

    @classmethod
    async def start(
        cls,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: FrozenClock,
    ) -> World:
        world = cls(client, sessionmaker, clock)
        world.admin = await world.staff(Role.provider_admin)
        return world

    async def staff(self, role: Role) -> dict[str, str]:
        """Headers of a new provider-side API client (made directly: staff have no creator)."""
        async with self.sessionmaker() as session:
            _client, token = await insert_api_client(
                session,
                self.clock,
                name=f"test {role.value}",
                role=role,
                enterprise_ids=[],
                created_by="test",
            )
            await session.commit()
        return bearer(token)

    async def enterprise(self, name: str = "Acme Telecom", country: str = "EC") -> dict[str, Any]:
        response = await self.client.post(
            "/v1/enterprises", json={"name": name, "country": country}, headers=self.admin
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def service(
        self,
        enterprise_id: str,
        *,
        city: str = "Quito",
        country: str = "EC",
        product_line: str = "data",
        code: str | None = None,
    ) -> dict[str, Any]:
        self._codes += 1
        payload = {
            "code": code or f"SVC-{uuid.uuid4().hex[:6].upper()}-{self._codes}",
            "product_line": product_line,
            "site": {"address": "Av. Amazonas N34-100", "city": city, "country": country},
        }
        response = await self.client.post(
            f"/v1/enterprises/{enterprise_id}/services", json=payload, headers=self.admin
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def api_client(
        self, role: Role | str, *enterprise_ids: str, by: dict[str, str] | None = None
    ) -> dict[str, str]:
        response = await self.client.post(
            "/v1/api-clients",
            json={
                "name": f"test {role}",
                "role": str(role),
                "enterprise_ids": list(enterprise_ids),
            },
            headers=by or self.admin,
        )
        assert response.status_code == 201, response.text
        return bearer(response.json()["token"])

    async def user(
        self, role: Role | str, *enterprise_ids: str, default: str | None = None
    ) -> dict[str, str]:
        """Headers of a person of `role` acting for `enterprise_ids` (the first by default),
        signed in through the portal's sign-in."""
        email = f"person-{uuid.uuid4().hex[:10]}@example.com"
        response = await self.client.post(
            "/v1/users",
            json={
                "email": email,
                "name": f"test {role}",
                "role": str(role),
                "enterprise_ids": list(enterprise_ids),
                "default_enterprise_id": default,
                "password": USER_PASSWORD,
            },
            headers=self.admin,
        )
        assert response.status_code == 201, response.text
        tokens = await self.client.post(
            "/v1/auth/token", json={"email": email, "password": USER_PASSWORD}
        )
        assert tokens.status_code == 200, tokens.text
        return bearer(tokens.json()["access_token"])
