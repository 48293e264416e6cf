"""Enterprises (tenants), their billing accounts and their services."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from app.core.deps import GuardedWrite, SessionDep, Write
from app.core.etag import with_etag
from app.core.idempotency import Idempotency
from app.core.pagination import Page, Paging
from app.services.enterprises import schemas, service
from app.services.enterprises.policy import (
    AccountAdder,
    EnterpriseCreator,
    EnterpriseEditor,
    EnterpriseReader,
    ServiceRegistrar,
)

router = APIRouter(prefix="/v1/enterprises", tags=["enterprises"])


@router.post("", status_code=201, summary="Create an enterprise (provider admins)")
async def create_enterprise(
    payload: schemas.EnterpriseCreate, caller: EnterpriseCreator, write: Write, claim: Idempotency
) -> schemas.EnterpriseRead:
    return await service.create_enterprise(write.session, write.clock, claim, payload)


@router.get("", summary="Enterprises the caller may act for")
async def list_enterprises(
    caller: EnterpriseReader, session: SessionDep, paging: Paging
) -> Page[schemas.EnterpriseRead]:
    return await service.list_enterprises(session, caller, paging)


@router.get("/{enterprise_id}", summary="One enterprise")
async def get_enterprise(
    enterprise_id: uuid.UUID, caller: EnterpriseReader, session: SessionDep, response: Response
) -> schemas.EnterpriseRead:
    enterprise = await service.get_enterprise(session, caller, enterprise_id)
    return schemas.EnterpriseRead.model_validate(with_etag(response, enterprise))


@router.patch("/{enterprise_id}", summary="Change an enterprise (provider admins)")
async def update_enterprise(
    enterprise_id: uuid.UUID,
    payload: schemas.EnterpriseUpdate,
    caller: EnterpriseEditor,
    write: GuardedWrite,
) -> schemas.EnterpriseRead:
    enterprise = await write.answer(
        service.update_enterprise, caller, enterprise_id, payload, write.if_match
    )
    return schemas.EnterpriseRead.model_validate(enterprise)


@router.post("/{enterprise_id}/accounts", status_code=201, summary="Add a billing account")
async def create_account(
    enterprise_id: uuid.UUID,
    payload: schemas.AccountCreate,
    caller: AccountAdder,
    write: Write,
    claim: Idempotency,
) -> schemas.AccountRead:
    return await service.create_account(
        write.session, caller, write.clock, claim, enterprise_id, payload
    )


@router.get("/{enterprise_id}/accounts", summary="The enterprise's billing accounts")
async def list_accounts(
    enterprise_id: uuid.UUID, caller: EnterpriseReader, session: SessionDep, paging: Paging
) -> Page[schemas.AccountRead]:
    return await service.list_accounts(session, caller, enterprise_id, paging)


@router.post(
    "/{enterprise_id}/services", status_code=201, summary="Register a service (provider admins)"
)
async def create_service(
    enterprise_id: uuid.UUID,
    payload: schemas.ServiceCreate,
    caller: ServiceRegistrar,
    write: Write,
    claim: Idempotency,
) -> schemas.ServiceRead:
    return await service.create_service(
        write.session, caller, write.clock, claim, enterprise_id, payload
    )


@router.get("/{enterprise_id}/services", summary="The enterprise's services")
async def list_services(
    enterprise_id: uuid.UUID, caller: EnterpriseReader, session: SessionDep, paging: Paging
) -> Page[schemas.ServiceRead]:
    return await service.list_services(session, caller, enterprise_id, paging)
