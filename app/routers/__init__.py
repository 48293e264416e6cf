"""Every router of the API, in the order the documentation lists them."""

from fastapi import APIRouter

from app.routers import (
    auth,
    calendars,
    city_tiers,
    contacts,
    directory,
    enterprises,
    health,
    identity,
    sla,
    tickets,
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
    webhooks.router,
]
