"""Every router of the API, in the order the documentation lists them."""

from fastapi import APIRouter

from app.routers import (
    auth,
    billing,
    changes,
    enterprises,
    health,
    identity,
    maintenances,
    orders,
)

ALL_ROUTERS: list[APIRouter] = [
    health.router,
    auth.router,
    identity.router,
    enterprises.router,
    orders.router,
    billing.router,
    changes.router,
    maintenances.router,
]
