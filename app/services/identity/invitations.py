"""Adding an e-mail that already has an account, as Control Center does: its owner is mailed an
invitation and gains the enterprises by accepting it. The administrator who added the e-mail
is answered exactly as for a new one, so nothing is learnt about other enterprises."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.caller_cache import callers_changed
from app.core.errors import Conflict, field_error
from app.core.roles import Role
from app.core.security import INVITATION_PREFIX, hash_token, new_token
from app.core.settings import Settings
from app.core.tenancy import Caller
from app.models import Invitation, MailMessage, User, UserEnterprise
from app.services.delivery.rules import ONE_TIME_LINK_MARK
from app.services.identity.rules import invitation_fits_role
from app.services.identity.schemas import UserCreate, UserRead

INVITATION_VALID_FOR = timedelta(days=7)

_INVITATION_TEXT = {
    "en": (
        "You are invited to more enterprises on Carrier Desk",
        "{inviter} added you on Carrier Desk. Open this link within 7 days to accept, and "
        "you will work for the new enterprises with your current sign-in:\n\n{link}\n\n"
        "If you do not expect it, ignore this message.",
    ),
    "es": (
        "Lo invitaron a más empresas en Carrier Desk",
        "{inviter} lo agregó en Carrier Desk. Abra este enlace dentro de 7 días para aceptar; "
        "trabajará para las nuevas empresas con su acceso actual:\n\n{link}\n\n"
        "Si no lo esperaba, ignore este mensaje.",
    ),
    "pt": (
        "Você foi convidado para mais empresas no Carrier Desk",
        "{inviter} adicionou você no Carrier Desk. Abra este link em até 7 dias para aceitar; "
        "você trabalhará para as novas empresas com seu acesso atual:\n\n{link}\n\n"
        "Se não esperava, ignore esta mensagem.",
    ),
}


def invitation_answer(
    user_id: uuid.UUID,
    email: str,
    payload: UserCreate,
    enterprise_ids: list[uuid.UUID],
    default_enterprise_id: uuid.UUID | None,
    now: datetime,
) -> UserRead:
    """What the administrator is answered: the shape and values a new account would have."""
    return UserRead(
        id=user_id,
        email=email,
        name=payload.name,
        role=payload.role,
        language=payload.language,
        enterprise_ids=enterprise_ids,
        default_enterprise_id=default_enterprise_id,
        last_login_at=None,
        revoked_at=None,
        version=1,
        created_at=now,
        updated_at=now,
    )


def invite(
    session: AsyncSession,
    caller: Caller,
    settings: Settings,
    user: User,
    role: Role,
    enterprise_ids: list[uuid.UUID],
    now: datetime,
) -> None:
    """Add (not commit) the invitation of `user` to `enterprise_ids` and the mail carrying it.

    The mail belongs to no enterprise: the inviting enterprise's mail log must not show that a
    message went out where a new account would have had none."""
    token = new_token(INVITATION_PREFIX)
    session.add(
        Invitation(
            id=uuid.uuid4(),
            user_id=user.id,
            token_hash=hash_token(token),
            enterprise_ids=enterprise_ids,
            role=role.value,
            invited_by=caller.actor,
            expires_at=now + INVITATION_VALID_FOR,
            created_at=now,
        )
    )
    subject, body = _INVITATION_TEXT.get(user.language, _INVITATION_TEXT["en"])
    session.add(
        MailMessage(
            id=uuid.uuid4(),
            recipient=user.email,
            language=user.language,
            subject=subject,
            body=body.format(inviter=caller.actor, link=ONE_TIME_LINK_MARK),
            one_time_link=f"{settings.public_url.rstrip('/')}/accept-invitation?token={token}",
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )


async def accept_invitation(session: AsyncSession, now: datetime, token: str) -> None:
    """The invited person opened the link: the account gains the enterprises, once."""
    invitation = (
        await session.execute(
            select(Invitation)
            .where(
                Invitation.token_hash == hash_token(token),
                Invitation.used_at.is_(None),
                Invitation.expires_at > now,
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if invitation is None:
        raise field_error(
            "token", "the invitation link is not valid, was already used or has expired"
        )
    account_role = (
        await session.execute(select(User.role).where(User.id == invitation.user_id))
    ).scalar_one()
    if not invitation_fits_role(Role(account_role), Role(invitation.role)):
        raise Conflict(
            f"this account is a {account_role} in every enterprise it belongs to, and the "
            f"invitation grants {invitation.role}: ask the administrator who invited you for "
            "that role, or for an account of its own"
        )
    invitation.used_at = now
    await session.execute(
        pg_insert(UserEnterprise)
        .values(
            [{"user_id": invitation.user_id, "enterprise_id": e} for e in invitation.enterprise_ids]
        )
        .on_conflict_do_nothing()
    )
    # The account's signed-in sessions act for the new enterprises at once.
    await callers_changed(session)
    await session.commit()
