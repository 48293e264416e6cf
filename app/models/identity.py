"""Who calls: API clients, people, their sessions and password resets."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamped, Versioned, new_id, page_index


class ApiClient(Base):
    __tablename__ = "api_clients"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_hint: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_api_clients_created_at_id", "created_at", "id"),)


class ApiClientEnterprise(Base):
    __tablename__ = "api_client_enterprises"

    api_client_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("api_clients.id", ondelete="CASCADE"), primary_key=True
    )
    enterprise_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprises.id"), primary_key=True, index=True
    )


class User(Versioned, Timestamped, Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(2), default="en")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    default_enterprise_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enterprises.id"))
    last_login_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    __table_args__ = (page_index("users"),)


class UserEnterprise(Base):
    __tablename__ = "user_enterprises"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    enterprise_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprises.id"), primary_key=True, index=True
    )


class UsersOwn:
    """A row that exists only for one user (a sign-in, a reset link) and goes with the user."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )


class UserSession(UsersOwn, Base):
    """A sign-in: a short-lived access token and the refresh token that renews it."""

    __tablename__ = "user_sessions"

    # Every refresh keeps the family of the sign-in it descends from; replaying a
    # rotated refresh token revokes the whole family.
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    access_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_hash: Mapped[str] = mapped_column(String(64), unique=True)
    access_expires_at: Mapped[datetime]
    refresh_expires_at: Mapped[datetime]
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class SigninThrottle(Base):
    """Failed sign-ins counted per account name and per client address, known or not."""

    __tablename__ = "signin_throttles"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    blocked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class PasswordReset(UsersOwn, Base):
    """A single-use link to choose a new password."""

    __tablename__ = "password_resets"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Invitation(UsersOwn, Base):
    """A single-use link that adds enterprises to an account that already exists: the person
    accepts by opening it (a customer admin adding a known e-mail learns nothing)."""

    __tablename__ = "invitations"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    enterprise_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid()))
    role: Mapped[str] = mapped_column(String(32))
    invited_by: Mapped[str] = mapped_column(String(80))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
