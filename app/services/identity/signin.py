"""Sign-in for people using the customer portal: tokens, refresh, sign-out, password reset."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.caller_cache import callers_changed
from app.core.clock import Clock
from app.core.errors import TooManyRequests, Unauthorized, field_error
from app.core.security import (
    ACCESS_PREFIX,
    REFRESH_PREFIX,
    RESET_PREFIX,
    hash_token,
    new_token,
)
from app.core.settings import Settings
from app.core.tenancy import Caller
from app.models import MailMessage, PasswordReset, SigninThrottle, User, UserSession
from app.services.delivery.rules import ONE_TIME_LINK_MARK
from app.services.identity.passwords import hash_password, verify_password
from app.services.identity.rules import (
    FREE_ATTEMPTS,
    Backoff,
    account_email,
    account_throttle_key,
    stale_throttle_before,
    throttle_keys,
)
from app.services.identity.schemas import TokenPair

RESET_VALID_FOR = timedelta(hours=1)


async def _open_session(
    session: AsyncSession,
    settings: Settings,
    user_id: uuid.UUID,
    now: datetime,
    family_id: uuid.UUID | None = None,
) -> TokenPair:
    """A new pair: a sign-in starts a family, a refresh continues its token's family."""
    access, refresh = new_token(ACCESS_PREFIX), new_token(REFRESH_PREFIX)
    access_ttl = timedelta(minutes=settings.access_token_minutes)
    session_id = uuid.uuid4()
    session.add(
        UserSession(
            id=session_id,
            user_id=user_id,
            family_id=family_id or session_id,
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


async def _user_with_email(session: AsyncSession, email: str) -> User | None:
    stmt = select(User).where(User.email == account_email(email))
    return (await session.execute(stmt)).scalar_one_or_none()


async def _hold_throttles(
    session: AsyncSession, email: str, keys: dict[str, Backoff], now: datetime
) -> datetime | None:
    """Lock the account name's counter for this attempt; when its next try may come.

    The account name's row is made and locked whether or not it has an account, so
    parallel guesses at one name wait for each other and a stranger sees no difference.
    """
    hashes = sorted(hash_token(key) for key in keys)
    account = hash_token(account_throttle_key(email))
    await session.execute(
        pg_insert(SigninThrottle)
        .values(key_hash=account, failures=0, updated_at=now)
        .on_conflict_do_nothing()
    )
    await session.execute(
        select(SigninThrottle.key_hash).where(SigninThrottle.key_hash == account).with_for_update()
    )
    blocked: datetime | None = (
        await session.execute(
            select(func.max(SigninThrottle.blocked_until)).where(
                SigninThrottle.key_hash.in_(hashes), SigninThrottle.blocked_until > now
            )
        )
    ).scalar_one()
    return blocked


async def _count_failure(session: AsyncSession, keys: dict[str, Backoff], now: datetime) -> None:
    for key, backoff in keys.items():
        key_hash = hash_token(key)
        upsert = pg_insert(SigninThrottle).values(key_hash=key_hash, failures=1, updated_at=now)
        failures = (
            await session.execute(
                upsert.on_conflict_do_update(
                    index_elements=[SigninThrottle.key_hash],
                    set_={"failures": SigninThrottle.failures + 1, "updated_at": now},
                ).returning(SigninThrottle.failures)
            )
        ).scalar_one()
        await session.execute(
            update(SigninThrottle)
            .where(SigninThrottle.key_hash == key_hash)
            .values(blocked_until=backoff.blocked_until(failures, now))
        )


async def _forget_failures(session: AsyncSession, email: str) -> None:
    """An account name starts afresh (its address counters stay)."""
    account = hash_token(account_throttle_key(email))
    await session.execute(delete(SigninThrottle).where(SigninThrottle.key_hash == account))


async def forget_stale_throttles(session: AsyncSession, clock: Clock) -> int:
    """Remove the failure counters quiet for `THROTTLE_MEMORY` that block nothing (a worker
    job): a flood of made-up names leaves no lasting rows. Answers how many went."""
    now = clock.now()
    result = await session.execute(
        delete(SigninThrottle).where(
            SigninThrottle.updated_at < stale_throttle_before(now),
            or_(SigninThrottle.blocked_until.is_(None), SigninThrottle.blocked_until <= now),
        )
    )
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


async def sign_in(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    email: str,
    password: str,
    address: str | None = None,
) -> TokenPair:
    """Answer the same, and throttle the same, whether or not the e-mail has an account."""
    now = clock.now()
    keys = throttle_keys(email, address)
    blocked_until = await _hold_throttles(session, email, keys, now)
    if blocked_until is not None:
        raise TooManyRequests(
            "too many failed sign-ins; wait before trying again",
            headers={"Retry-After": _retry_after(blocked_until, now)},
        )
    user = await _user_with_email(session, email)
    password_ok = await verify_password(user.password_hash if user else None, password)
    if user is None or user.revoked_at is not None or not password_ok:
        await _count_failure(session, keys, now)
        await session.commit()
        raise Unauthorized("the e-mail or the password is wrong")
    await _forget_failures(session, email)
    user.last_login_at = now
    pair = await _open_session(session, settings, user.id, now)
    await session.commit()
    return pair


async def refresh(
    session: AsyncSession, clock: Clock, settings: Settings, refresh_token: str
) -> TokenPair:
    """Trade a refresh token for a new pair; the old pair stops working (rotation).

    A rotated token coming back means two parties hold the family (a thief and the
    user): the whole family is revoked, and the user signs in again.
    """
    now = clock.now()
    refused = Unauthorized("the refresh token is not valid, has expired or has been revoked")
    if not refresh_token.startswith(REFRESH_PREFIX):
        raise refused
    found = (
        await session.execute(
            select(UserSession, User.revoked_at)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.refresh_hash == hash_token(refresh_token))
            .with_for_update(of=UserSession)
        )
    ).one_or_none()
    if found is None:
        raise refused
    row, user_revoked_at = found
    if row.revoked_at is not None:
        await session.execute(
            update(UserSession)
            .where(UserSession.family_id == row.family_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        await callers_changed(session)
        await session.commit()
        raise refused
    if row.refresh_expires_at <= now or user_revoked_at is not None:
        raise refused
    row.revoked_at = now
    pair = await _open_session(session, settings, row.user_id, now, row.family_id)
    await callers_changed(session)
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
    await callers_changed(session)
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
            body=body.format(link=ONE_TIME_LINK_MARK),
            one_time_link=link,
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
    email = (
        await session.execute(
            update(User)
            .where(User.id == reset.user_id)
            .values(
                password_hash=await hash_password(new_password),
                updated_at=now,
                version=User.version + 1,
            )
            .returning(User.email)
        )
    ).scalar_one()
    # A reset link always unlocks: an attacker's failures cannot keep the owner out.
    await _forget_failures(session, email)
    # A new password ends every session opened with the old one.
    await session.execute(
        update(UserSession)
        .where(UserSession.user_id == reset.user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await callers_changed(session)
    await session.commit()


__all__ = ["FREE_ATTEMPTS"]
