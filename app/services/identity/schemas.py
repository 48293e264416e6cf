"""API clients, users and sign-in."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from app.core.roles import Role
from app.core.schemas import Email, NonEmpty, RequestBody, ResponseBody

# Documented write-only: a password is taken, never answered.
Password = Annotated[
    str,
    Field(
        min_length=12, max_length=200, json_schema_extra={"format": "password", "writeOnly": True}
    ),
]

Language = Literal["es", "pt", "en"]


class ApiClientCreate(RequestBody):
    name: NonEmpty
    role: Role
    enterprise_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=1000, description="Enterprises the client acts for"
    )


class ApiClientRead(ResponseBody):
    id: uuid.UUID
    name: str
    role: Role
    enterprise_ids: list[uuid.UUID]
    token_hint: str = Field(description="The first characters of the token, to recognise it")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiClientCreated(ApiClientRead):
    token: str = Field(description="The bearer token. Shown once: store it now.")


class UserCreate(RequestBody):
    email: Email
    name: NonEmpty
    role: Role
    language: Language = "en"
    enterprise_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)
    default_enterprise_id: uuid.UUID | None = None
    password: Password | None = Field(
        default=None, description="Leave empty to have the user set one through a reset link"
    )


class UserUpdate(RequestBody):
    name: NonEmpty | None = None
    role: Role | None = None
    language: Language | None = None
    enterprise_ids: list[uuid.UUID] | None = Field(default=None, max_length=1000)
    default_enterprise_id: uuid.UUID | None = None


class UserRead(ResponseBody):
    id: uuid.UUID
    email: str
    name: str
    role: Role
    language: str
    enterprise_ids: list[uuid.UUID]
    default_enterprise_id: uuid.UUID | None
    last_login_at: datetime | None
    revoked_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class TokenRequest(RequestBody):
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=200)]


class RefreshRequest(RequestBody):
    refresh_token: Annotated[str, Field(min_length=1, max_length=200)]


class TokenPair(ResponseBody):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")


class PasswordResetRequest(RequestBody):
    email: Email


class PasswordResetConfirm(RequestBody):
    token: Annotated[str, Field(min_length=1, max_length=200)]
    new_password: Password


class InvitationAccept(RequestBody):
    token: Annotated[str, Field(min_length=1, max_length=200)]


class Me(ResponseBody):
    id: uuid.UUID
    kind: Literal["api_client", "user"]
    name: str
    role: Role
    enterprise_ids: list[uuid.UUID]
    default_enterprise_id: uuid.UUID | None
