"""Sign-in for the customer portal."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.core.deps import AnyCaller, ClockDep, SessionDep, SettingsDep
from app.schemas.identity import (
    PasswordResetConfirm,
    PasswordResetRequest,
    RefreshRequest,
    TokenPair,
    TokenRequest,
)
from app.services import signin

router = APIRouter(prefix="/v1/auth", tags=["sign-in"])


@router.post("/token", summary="Sign in with e-mail and password")
async def sign_in(
    payload: TokenRequest, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> TokenPair:
    return await signin.sign_in(session, clock, settings, payload.email, payload.password)


@router.post("/refresh", summary="Trade a refresh token for a new pair")
async def refresh(
    payload: RefreshRequest, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> TokenPair:
    return await signin.refresh(session, clock, settings, payload.refresh_token)


@router.post("/logout", status_code=204, summary="Sign out: both tokens stop working")
async def sign_out(caller: AnyCaller, session: SessionDep, clock: ClockDep) -> Response:
    await signin.sign_out(session, clock, caller)
    return Response(status_code=204)


@router.post(
    "/password-reset",
    status_code=202,
    response_class=Response,
    summary="Mail a password reset link",
)
async def request_reset(
    payload: PasswordResetRequest, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    await signin.request_password_reset(session, clock, settings, payload.email)
    return Response(status_code=202)


@router.post(
    "/password-reset/confirm", status_code=204, summary="Set a new password from a reset link"
)
async def confirm_reset(
    payload: PasswordResetConfirm, session: SessionDep, clock: ClockDep
) -> Response:
    await signin.confirm_password_reset(session, clock, payload.token, payload.new_password)
    return Response(status_code=204)
