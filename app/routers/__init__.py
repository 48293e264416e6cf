"""Every router of the API, in the order the documentation lists them."""

from fastapi import APIRouter

from app.routers import (
    auth,
    billing,
    calendars,
    changes,
    city_tiers,
    contacts,
    directory,
    enterprises,
    events,
    health,
    identity,
    mail,
    maintenances,
    orders,
    sla,
    tickets,
    tmf621,
    webhooks,
)

ALL_ROUTERS: list[APIRouter] = [
    health.router,
    auth.router,
    identity.router,
    enterprises.router,
    contacts.router,
    directory.router,
    calendars.router,
    city_tiers.router,
    tickets.router,
    sla.router,
    orders.router,
    billing.router,
    changes.router,
    maintenances.router,
    webhooks.router,
    tmf621.router,
    events.router,
    mail.router,
]
