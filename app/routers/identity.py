"""Sign-in for the customer portal; API clients and users (a customer administrator manages
those of its own enterprises)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from app.core.deps import ClockDep, GuardedWrite, SessionDep, SettingsDep, Write
from app.core.etag import with_etag
from app.core.idempotency import SHOWN_ONCE_RETRY, Idempotency
from app.core.pagination import Page, Paging
from app.services.identity import invitations, schemas, service, signin
from app.services.identity.policy import ApiClientManager, SignedIn, UserManager

router = APIRouter(prefix="/v1", tags=["identity"])


@router.get("/me", summary="Who the bearer token belongs to")
async def me(caller: SignedIn) -> schemas.Me:
    me = schemas.Me.model_validate(caller)  # the caller's own fields, by name
    me.enterprise_ids.sort()
    return me


@router.post(
    "/api-clients",
    status_code=201,
    summary="Create an API client; its token is shown once",
    description=SHOWN_ONCE_RETRY,
)
async def create_api_client(
    payload: schemas.ApiClientCreate,
    caller: ApiClientManager,
    write: Write,
    claim: Idempotency,
) -> schemas.ApiClientCreated:
    return await service.create_api_client(write.session, caller, write.clock, claim, payload)


@router.get("/api-clients", summary="API clients the caller administers")
async def list_api_clients(
    caller: ApiClientManager, session: SessionDep, paging: Paging
) -> Page[schemas.ApiClientRead]:
    return await service.list_api_clients(session, caller, paging)


@router.delete("/api-clients/{client_id}", status_code=204, summary="Revoke an API client's token")
async def revoke_api_client(
    client_id: uuid.UUID, caller: ApiClientManager, write: Write
) -> Response:
    await service.revoke_api_client(write.session, caller, write.clock, client_id)
    return Response(status_code=204)


@router.post(
    "/users",
    status_code=201,
    summary="Add a user",
    description="An e-mail that already has an account (in any enterprise) is not created "
    "again: its owner is mailed an invitation and gains these enterprises by accepting it "
    "(`POST /v1/auth/invitations/accept`). The answer is the same either way.",
)
async def create_user(
    payload: schemas.UserCreate,
    caller: UserManager,
    write: Write,
    settings: SettingsDep,
    claim: Idempotency,
) -> schemas.UserRead:
    return await service.create_user(write.session, caller, write.clock, settings, claim, payload)


@router.get("/users", summary="Users the caller administers")
async def list_users(
    caller: UserManager, session: SessionDep, paging: Paging
) -> Page[schemas.UserRead]:
    return await service.list_users(session, caller, paging)


@router.get("/users/{user_id}", summary="One user")
async def get_user(
    user_id: uuid.UUID, caller: UserManager, session: SessionDep, response: Response
) -> schemas.UserRead:
    user = await service.get_user(session, caller, user_id)
    return with_etag(response, user)


@router.patch("/users/{user_id}", summary="Change a user's name, role or enterprises")
async def update_user(
    user_id: uuid.UUID,
    payload: schemas.UserUpdate,
    caller: UserManager,
    write: GuardedWrite,
) -> schemas.UserRead:
    return await write.answer(service.update_user, caller, user_id, payload, write.if_match)


@router.delete("/users/{user_id}", status_code=204, summary="Revoke a user and end their sessions")
async def revoke_user(user_id: uuid.UUID, caller: UserManager, write: Write) -> Response:
    await service.revoke_user(write.session, caller, write.clock, user_id)
    return Response(status_code=204)


auth_router = APIRouter(prefix="/v1/auth", tags=["sign-in"])


@auth_router.post("/token", summary="Sign in with e-mail and password")
async def sign_in(
    payload: schemas.TokenRequest,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> schemas.TokenPair:
    address = request.client.host if request.client else None
    return await signin.sign_in(session, clock, settings, payload.email, payload.password, address)


@auth_router.post("/refresh", summary="Trade a refresh token for a new pair")
async def refresh(
    payload: schemas.RefreshRequest, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> schemas.TokenPair:
    return await signin.refresh(session, clock, settings, payload.refresh_token)


@auth_router.post("/logout", status_code=204, summary="Sign out: both tokens stop working")
async def sign_out(caller: SignedIn, write: Write) -> Response:
    await signin.sign_out(write.session, write.clock, caller)
    return Response(status_code=204)


@auth_router.post(
    "/password-reset",
    status_code=202,
    response_class=Response,
    summary="Mail a password reset link",
)
async def request_reset(
    payload: schemas.PasswordResetRequest,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    await signin.request_password_reset(session, clock, settings, payload.email)
    return Response(status_code=202)


@auth_router.post(
    "/password-reset/confirm", status_code=204, summary="Set a new password from a reset link"
)
async def confirm_reset(
    payload: schemas.PasswordResetConfirm, session: SessionDep, clock: ClockDep
) -> Response:
    await signin.confirm_password_reset(session, clock, payload.token, payload.new_password)
    return Response(status_code=204)


@auth_router.post(
    "/invitations/accept",
    status_code=204,
    summary="Accept an invitation: the account gains the inviting enterprises",
)
async def accept_invitation(
    payload: schemas.InvitationAccept, session: SessionDep, clock: ClockDep
) -> Response:
    await invitations.accept_invitation(session, clock.now(), payload.token)
    return Response(status_code=204)
