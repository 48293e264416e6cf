"""Every table, imported here so Alembic and the metadata see them all."""

from app.models.base import Base
from app.models.delivery import WebhookAttempt, WebhookDelivery, WebhookEndpoint
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
    "User",
    "UserEnterprise",
    "UserSession",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
