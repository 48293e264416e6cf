"""Every router of the API, in the order the app includes them.

FastAPI tries routes one by one, so the ticket routes, most of the traffic, come first (no
other router has a path under /v1/tickets, so none is shadowed; the committed document sorts
its paths and does not depend on this order)."""

from fastapi import APIRouter

from app.routers import (
    attachments,
    billing,
    calendars,
    changes,
    delivery,
    directory,
    enterprises,
    health,
    identity,
    inbound_mail,
    incidents,
    maintenance,
    orders,
    sonata,
    tickets,
    tmf621,
)

ALL_ROUTERS: list[APIRouter] = [
    tickets.router,
    health.router,
    identity.auth_router,
    identity.router,
    enterprises.router,
    directory.contacts_router,
    directory.router,
    calendars.router,
    directory.city_tiers_router,
    tickets.sla_router,
    orders.router,
    billing.router,
    attachments.router,
    inbound_mail.router,
    changes.router,
    maintenance.router,
    incidents.router,
    delivery.router,
    tmf621.router,
    sonata.router,
    delivery.events_router,
    delivery.mail_router,
]
