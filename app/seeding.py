"""Reference data and the bootstrap administrator. Every step is idempotent."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.caller_cache import callers_changed
from app.core.clock import Clock
from app.core.roles import Role
from app.core.security import hash_token
from app.models import ApiClient

logger = logging.getLogger("carrierdesk.seed")

Seeder = Callable[[AsyncSession, Clock], Awaitable[None]]

# A fixed advisory-lock key: replicas seeding at once take turns.
SEED_LOCK_KEY = 7_245_113_902


def seeders() -> list[Seeder]:
    """Each feature that owns reference data adds its seeder here."""
    from app.services.directory.seed import seed_countries
    from app.services.inbound_mail.mailboxes import seed_billing_mailboxes
    from app.services.tickets.sla_policies import seed_sla_policies

    return [seed_countries, seed_sla_policies, seed_billing_mailboxes]


async def seed_reference_data(session: AsyncSession, clock: Clock) -> None:
    await session.execute(select(func.pg_advisory_xact_lock(SEED_LOCK_KEY)))
    for seeder in seeders():
        await seeder(session, clock)
    await session.commit()


BOOTSTRAP_CLIENT_NAME = "bootstrap administrator (CARRIERDESK_ADMIN_TOKEN)"
# Marks the clients made from the setting (`created_by`), so a changed setting revokes the old.
BOOTSTRAP_CREATOR = "bootstrap"


async def ensure_bootstrap_admin(session: AsyncSession, clock: Clock, token: str) -> None:
    """Make sure a provider_admin client with exactly this token exists and is not revoked, and
    that no earlier bootstrap token still works: changing `CARRIERDESK_ADMIN_TOKEN` and
    restarting revokes the previous one (clients an administrator created are untouched)."""
    from app.services.identity.service import insert_api_client

    token_hash = hash_token(token)
    existing = (
        await session.execute(select(ApiClient.id).where(ApiClient.token_hash == token_hash))
    ).scalar_one_or_none()
    if existing is None:
        await insert_api_client(
            session,
            clock,
            name=BOOTSTRAP_CLIENT_NAME,
            role=Role.provider_admin,
            enterprise_ids=[],
            created_by=BOOTSTRAP_CREATOR,
            token=token,
        )
        logger.info("bootstrap administrator created")
    else:
        await session.execute(
            update(ApiClient)
            .where(ApiClient.id == existing)
            .values(role=Role.provider_admin.value, revoked_at=None)
        )
    await session.execute(
        update(ApiClient)
        .where(
            ApiClient.created_by == BOOTSTRAP_CREATOR,
            ApiClient.token_hash != token_hash,
            ApiClient.revoked_at.is_(None),
        )
        .values(revoked_at=clock.now())
    )
    # A serve already running elsewhere forgets the administrator it remembers.
    await callers_changed(session)
    await session.commit()
