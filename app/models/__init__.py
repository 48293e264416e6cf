"""Every table, imported here so Alembic and the metadata see them all."""

from app.models.attachments import Attachment
from app.models.base import Base
from app.models.billing import BillingRequest
from app.models.calendars import ClosedDay, CountryCalendar
from app.models.changes import ChangeRequest
from app.models.delivery import MailMessage, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.models.directory import (
    AccountTeamMember,
    CityTier,
    CountryDirectory,
    DirectoryLine,
    EscalationLevel,
    EscalationMatrix,
    NotificationContact,
    Office,
)
from app.models.enterprises import Account, Enterprise, Service
from app.models.identity import (
    ApiClient,
    ApiClientEnterprise,
    Invitation,
    PasswordReset,
    SigninThrottle,
    User,
    UserEnterprise,
    UserSession,
)
from app.models.inbound_mail import InboundMessage, Mailbox
from app.models.incidents import Incident, IncidentService, IncidentTicket
from app.models.maintenance import (
    Maintenance,
    MaintenanceFeed,
    MaintenanceImpact,
    MaintenancePolicy,
)
from app.models.orders import Order
from app.models.platform import Event, IdempotencyRecord, OutboxMessage
from app.models.sonata import SonataTicketAttributes
from app.models.tickets import SlaClock, SlaPolicy, Ticket
from app.models.tmf621 import TmfTicketAttributes

__all__ = [
    "Account",
    "AccountTeamMember",
    "ApiClient",
    "ApiClientEnterprise",
    "Attachment",
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
    "InboundMessage",
    "Incident",
    "IncidentService",
    "IncidentTicket",
    "Invitation",
    "MailMessage",
    "Mailbox",
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
    "SigninThrottle",
    "SlaClock",
    "SlaPolicy",
    "SonataTicketAttributes",
    "Ticket",
    "TmfTicketAttributes",
    "User",
    "UserEnterprise",
    "UserSession",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
