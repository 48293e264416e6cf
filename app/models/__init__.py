"""Every table, imported here so Alembic and the metadata see them all."""

from app.models.base import Base
from app.models.identity import (
    ApiClient,
    ApiClientEnterprise,
    PasswordReset,
    User,
    UserEnterprise,
    UserSession,
)
from app.models.platform import Event, IdempotencyRecord, MailMessage, OutboxMessage
from app.models.tenancy import Account, Enterprise, Service
from app.models.tickets import SlaClock, SlaPolicy, Ticket

__all__ = [
    "Account",
    "ApiClient",
    "ApiClientEnterprise",
    "Base",
    "Enterprise",
    "Event",
    "IdempotencyRecord",
    "MailMessage",
    "OutboxMessage",
    "PasswordReset",
    "Service",
    "SlaClock",
    "SlaPolicy",
    "Ticket",
    "User",
    "UserEnterprise",
    "UserSession",
]
