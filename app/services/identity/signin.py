"""Sign-in for people using the customer portal: tokens, refresh, sign-out, password reset."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.errors import TooManyRequests, Unauthorized, field_error
from app.core.security import (
    ACCESS_PREFIX,
    REFRESH_PREFIX,
    RESET_PREFIX,
    hash_password,
    hash_token,
    new_token,
    verify_password,
)
from app.core.settings import Settings
from app.core.tenancy import Caller
from app.models import MailMessage, PasswordReset, User, UserSession
from app.services.identity.rules import FREE_ATTEMPTS, lockout_after_failure
from app.services.identity.schemas import TokenPair

RESET_VALID_FOR = timedelta(hours=1)


async def _open_session(
    session: AsyncSession, settings: Settings, user_id: uuid.UUID, now: datetime
) -> TokenPair:
    access, refresh = new_token(ACCESS_PREFIX), new_token(REFRESH_PREFIX)
    access_ttl = timedelta(minutes=settings.access_token_minutes)
    session.add(
        UserSession(
            id=uuid.uuid4(),
            user_id=user_id,
            access_hash=hash_token(access),
            refresh_hash=hash_token(refresh),
            access_expires_at=now + access_ttl,
            refresh_expires_at=now + timedelta(days=settings.refresh_token_days),
            created_at=now,
        )
    )
    return TokenPair(
        access_token=access, refresh_token=refresh, expires_in=int(access_ttl.total_seconds())
    )


def _retry_after(until: datetime, now: datetime) -> str:
    return str(max(1, int((until - now).total_seconds() + 0.999)))


async def _user_with_email(session: AsyncSession, email: str, *, lock: bool = False) -> User | None:
    """The account an e-mail signs in as: addresses are compared in lower case."""
    stmt = select(User).where(User.email == email.lower())
    return (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()


async def sign_in(
    session: AsyncSession, clock: Clock, settings: Settings, email: str, password: str
) -> TokenPair:
    now = clock.now()
    user = await _user_with_email(session, email, lock=True)
    if user is not None and user.locked_until is not None and user.locked_until > now:
        raise TooManyRequests(
            "too many failed sign-ins; wait before trying again",
            headers={"Retry-After": _retry_after(user.locked_until, now)},
        )
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is None or user.revoked_at is not None or not password_ok:
        if user is not None:
            user.failed_logins += 1
            user.locked_until = lockout_after_failure(user.failed_logins, now)
            await session.commit()
        raise Unauthorized("the e-mail or the password is wrong")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    pair = await _open_session(session, settings, user.id, now)
    await session.commit()
    return pair


async def refresh(
    session: AsyncSession, clock: Clock, settings: Settings, refresh_token: str
) -> TokenPair:
    """Trade a refresh token for a new pair; the old pair stops working (rotation)."""
    now = clock.now()
    if not refresh_token.startswith(REFRESH_PREFIX):
        raise Unauthorized("the refresh token is not valid")
    row = (
        await session.execute(
            select(UserSession)
            .join(User, User.id == UserSession.user_id)
            .where(
                UserSession.refresh_hash == hash_token(refresh_token),
                UserSession.revoked_at.is_(None),
                UserSession.refresh_expires_at > now,
                User.revoked_at.is_(None),
            )
            .with_for_update(of=UserSession)
        )
    ).scalar_one_or_none()
    if row is None:
        raise Unauthorized("the refresh token is not valid, has expired or has been revoked")
    row.revoked_at = now
    pair = await _open_session(session, settings, row.user_id, now)
    await session.commit()
    return pair


async def sign_out(session: AsyncSession, clock: Clock, caller: Caller) -> None:
    if caller.session_id is None:
        raise field_error("authorization", "only a person's access token can be signed out")
    await session.execute(
        update(UserSession)
        .where(UserSession.id == caller.session_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    await session.commit()


_RESET_TEXT = {
    "en": (
        "Reset your Carrier Desk password",
        "Open this link within an hour to choose a new password:\n\n{link}\n\n"
        "If you did not ask for it, ignore this message.",
    ),
    "es": (
        "Restablezca su contraseña de Carrier Desk",
        "Abra este enlace dentro de una hora para elegir una contraseña nueva:\n\n{link}\n\n"
        "Si no lo solicitó, ignore este mensaje.",
    ),
    "pt": (
        "Redefina sua senha do Carrier Desk",
        "Abra este link dentro de uma hora para escolher uma nova senha:\n\n{link}\n\n"
        "Se você não pediu, ignore esta mensagem.",
    ),
}


async def request_password_reset(
    session: AsyncSession, clock: Clock, settings: Settings, email: str
) -> None:
    """Mail a single-use link; answer the same whether or not the address has an account."""
    now = clock.now()
    user = await _user_with_email(session, email)
    if user is None or user.revoked_at is not None:
        return
    token = new_token(RESET_PREFIX)
    session.add(
        PasswordReset(
            id=uuid.uuid4(),
            user_id=user.id,
            token_hash=hash_token(token),
            expires_at=now + RESET_VALID_FOR,
            created_at=now,
        )
    )
    subject, body = _RESET_TEXT.get(user.language, _RESET_TEXT["en"])
    link = f"{settings.public_url.rstrip('/')}/reset-password?token={token}"
    session.add(
        MailMessage(
            id=uuid.uuid4(),
            recipient=user.email,
            language=user.language,
            subject=subject,
            body=body.format(link=link),
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    await session.commit()


async def confirm_password_reset(
    session: AsyncSession, clock: Clock, token: str, new_password: str
) -> None:
    now = clock.now()
    reset = (
        await session.execute(
            select(PasswordReset)
            .where(
                PasswordReset.token_hash == hash_token(token),
                PasswordReset.used_at.is_(None),
                PasswordReset.expires_at > now,
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if reset is None:
        raise field_error("token", "the reset link is not valid, was already used or has expired")
    reset.used_at = now
    await session.execute(
        update(User)
        .where(User.id == reset.user_id)
        .values(
            password_hash=hash_password(new_password),
            failed_logins=0,
            locked_until=None,
            updated_at=now,
            version=User.version + 1,
        )
    )
    # A new password ends every session opened with the old one.
    await session.execute(
        update(UserSession)
        .where(UserSession.user_id == reset.user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await session.commit()


__all__ = ["FREE_ATTEMPTS"]
