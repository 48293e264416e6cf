"""Use cases of enterprises, their accounts and their services."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.errors import Conflict, field_error
from app.core.etag import check_if_match
from app.core.idempotency import IdempotencyClaim, commit_creation, commit_new_row
from app.core.orm_pages import fetch_page
from app.core.pagination import Page, PageParams
from app.core.reads import read_of
from app.core.row_versions import new_version
from app.core.tenancy import Caller, find_visible, one_or_404, visible_to
from app.models import Account, Enterprise, Service
from app.services.enterprises.schemas import (
    AccountCreate,
    AccountRead,
    EnterpriseCreate,
    EnterpriseRead,
    EnterpriseUpdate,
    ServiceCreate,
    ServiceRead,
    SiteRead,
)

Row = TypeVar("Row")


async def get_enterprise(
    session: AsyncSession, caller: Caller, enterprise_id: uuid.UUID, *, lock: bool = False
) -> Enterprise:
    stmt = visible_to(select(Enterprise), caller, Enterprise.id).where(
        Enterprise.id == enterprise_id
    )
    return await one_or_404(session, stmt, "enterprise", enterprise_id, lock=lock)


async def page_of_enterprise(
    session: AsyncSession,
    caller: Caller,
    enterprise_id: uuid.UUID,
    model: type[Row],
    params: PageParams,
) -> tuple[list[Row], str | None]:
    """One page of an enterprise's rows of the tenant table `model`, in order of change,
    and the next cursor; an enterprise the caller may not see is a 404."""
    await get_enterprise(session, caller, enterprise_id)
    table: Any = model
    stmt = visible_to(select(model), caller, table.enterprise_id).where(
        table.enterprise_id == enterprise_id
    )
    return await fetch_page(session, stmt, params, table.updated_at, table.id)


async def create_enterprise(
    session: AsyncSession, clock: Clock, claim: IdempotencyClaim | None, payload: EnterpriseCreate
) -> EnterpriseRead:
    now = clock.now()
    enterprise = Enterprise(
        id=uuid.uuid4(),
        name=payload.name,
        country=payload.country,
        segment=payload.segment.value,
        created_at=now,
        updated_at=now,
        version=1,
    )
    return await commit_new_row(session, claim, enterprise, EnterpriseRead.model_validate)


async def list_enterprises(
    session: AsyncSession, caller: Caller, params: PageParams
) -> Page[EnterpriseRead]:
    stmt = visible_to(select(Enterprise), caller, Enterprise.id)
    items, cursor = await fetch_page(session, stmt, params, Enterprise.updated_at, Enterprise.id)
    return Page(items=[EnterpriseRead.model_validate(e) for e in items], next_cursor=cursor)


async def update_enterprise(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    enterprise_id: uuid.UUID,
    payload: EnterpriseUpdate,
    if_match: str | None,
) -> Enterprise:
    enterprise = await get_enterprise(session, caller, enterprise_id, lock=True)
    check_if_match(if_match, enterprise.version)
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    for field, value in changes.items():
        setattr(enterprise, field, value.value if hasattr(value, "value") else value)
    if changes:
        new_version(enterprise, clock.now())
    await session.commit()
    return enterprise


async def create_account(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    claim: IdempotencyClaim | None,
    enterprise_id: uuid.UUID,
    payload: AccountCreate,
) -> AccountRead:
    await get_enterprise(session, caller, enterprise_id)
    now = clock.now()
    # The body's fields (number, name, currency) are the account's columns as they are.
    account = Account(
        id=uuid.uuid4(),
        enterprise_id=enterprise_id,
        **payload.model_dump(),
        created_at=now,
        updated_at=now,
    )
    session.add(account)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"account number {payload.number} already exists in this enterprise"
        ) from exc
    answer = AccountRead.model_validate(account)
    await commit_creation(session, claim, answer)
    return answer


async def list_accounts(
    session: AsyncSession, caller: Caller, enterprise_id: uuid.UUID, params: PageParams
) -> Page[AccountRead]:
    items, cursor = await page_of_enterprise(session, caller, enterprise_id, Account, params)
    return Page(items=[AccountRead.model_validate(a) for a in items], next_cursor=cursor)


def service_read(service: Service) -> ServiceRead:
    site = SiteRead(
        address=service.site_address, city=service.site_city, country=service.site_country
    )
    return read_of(ServiceRead, service, site=site)


async def create_service(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    claim: IdempotencyClaim | None,
    enterprise_id: uuid.UUID,
    payload: ServiceCreate,
) -> ServiceRead:
    await get_enterprise(session, caller, enterprise_id)
    if payload.account_id is not None:
        account = (
            await session.execute(
                select(Account.id).where(
                    Account.id == payload.account_id, Account.enterprise_id == enterprise_id
                )
            )
        ).scalar_one_or_none()
        if account is None:
            raise field_error("account_id", "no such account in this enterprise")
    existing = (
        await session.execute(select(Service.id).where(Service.code == payload.code))
    ).scalar_one_or_none()
    if existing is not None:
        raise Conflict(f"service code {payload.code} is already in use")
    now = clock.now()
    service = Service(
        id=uuid.uuid4(),
        enterprise_id=enterprise_id,
        account_id=payload.account_id,
        code=payload.code,
        product_line=payload.product_line.value,
        description=payload.description,
        status="active",
        site_address=payload.site.address,
        site_city=payload.site.city,
        site_country=payload.site.country,
        created_at=now,
        updated_at=now,
        version=1,
    )
    return await commit_new_row(session, claim, service, service_read)


async def list_services(
    session: AsyncSession, caller: Caller, enterprise_id: uuid.UUID, params: PageParams
) -> Page[ServiceRead]:
    items, cursor = await page_of_enterprise(session, caller, enterprise_id, Service, params)
    return Page(items=[service_read(s) for s in items], next_cursor=cursor)


async def get_service(session: AsyncSession, caller: Caller, service_id: uuid.UUID) -> Service:
    return await find_visible(session, caller, Service, service_id, what="service")
