"""Who may do what: roles of the carrier's staff and of its customers."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    provider_admin = "provider_admin"
    tsc_engineer = "tsc_engineer"
    billing_agent = "billing_agent"
    change_manager = "change_manager"
    customer_care_manager = "customer_care_manager"
    service_manager = "service_manager"
    customer_admin = "customer_admin"
    customer_user = "customer_user"
    carrier = "carrier"


PROVIDER_ROLES = frozenset(
    {
        Role.provider_admin,
        Role.tsc_engineer,
        Role.billing_agent,
        Role.change_manager,
        Role.customer_care_manager,
        Role.service_manager,
    }
)

CUSTOMER_ROLES = frozenset({Role.customer_admin, Role.customer_user, Role.carrier})

# A customer administrator hands out only customer roles; never staff ones.
GRANTABLE_BY_CUSTOMER_ADMIN = CUSTOMER_ROLES


def is_provider(role: Role) -> bool:
    return role in PROVIDER_ROLES


def may_grant(granter: Role, role: Role) -> bool:
    if granter is Role.provider_admin:
        return True
    if granter is Role.customer_admin:
        return role in GRANTABLE_BY_CUSTOMER_ADMIN
    return False
