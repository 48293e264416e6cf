"""Every table, imported here so Alembic and the metadata see them all."""

from app.models.base import Base
from app.models.countries import (
    AccountTeamMember,
    CityTier,
    ClosedDay,
    CountryCalendar,
    CountryDirectory,
    DirectoryLine,
    EscalationLevel,
    EscalationMatrix,
    NotificationContact,
    Office,
)
from app.models.delivery import (
    TmfTicketAttributes,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.models.identity import (
    ApiClient,
    ApiClientEnterprise,
    PasswordReset,
    User,
    UserEnterprise,
    UserSession,
)
from app.models.maintenance import (
    Maintenance,
    MaintenanceFeed,
    MaintenanceImpact,
    MaintenancePolicy,
)
from app.models.platform import Event, IdempotencyRecord, MailMessage, OutboxMessage
from app.models.requests import BillingRequest, ChangeRequest, Order
from app.models.tenancy import Account, Enterprise, Service
from app.models.tickets import SlaClock, SlaPolicy, Ticket

__all__ = [
    "Account",
    "AccountTeamMember",
    "ApiClient",
    "ApiClientEnterprise",
    "Base",
    "BillingRequest",
    "ChangeRequest",
    "CityTier",
    "ClosedDay",
    "CountryCalendar",
    "CountryDirectory",
    "DirectoryLine",
    "Enterprise",
    "EscalationLevel",
    "EscalationMatrix",
    "Event",
    "IdempotencyRecord",
    "MailMessage",
    "Maintenance",
    "MaintenanceFeed",
    "MaintenanceImpact",
    "MaintenancePolicy",
    "NotificationContact",
    "Office",
    "Order",
    "OutboxMessage",
    "PasswordReset",
    "Service",
    "SlaClock",
    "SlaPolicy",
    "Ticket",
    "TmfTicketAttributes",
    "User",
    "UserEnterprise",
    "UserSession",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
