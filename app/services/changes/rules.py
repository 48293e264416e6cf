"""The catalogue of standard changes on active services (seeds 001, 002).

A change in the catalogue is `standard`: analysed within 72 business hours and
executed in business hours or in the customer's window. Anything else is
referred to the enterprise's service manager or account manager.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum, auto

ANALYSIS_BUSINESS_HOURS = 72  # seeds 001, 002: "PT72H business hours"

MAX_SERVICES_PER_CHANGE = 10  # seeds 001, 002: "at most 10 sites per change"


class ChangeStatus(StrEnum):
    received = auto()
    referred = auto()
    analysed = auto()
    scheduled = auto()
    completed = auto()
    rejected = auto()
    cancelled = auto()


# Analysis and scheduling may both come straight after receipt or referral; `scheduled` is
# reached through the schedule endpoint (it needs a time), every other move through
# transitions.
CHANGE_TRANSITIONS: dict[ChangeStatus, frozenset[ChangeStatus]] = {
    ChangeStatus.received: frozenset(
        {
            ChangeStatus.analysed,
            ChangeStatus.scheduled,
            ChangeStatus.rejected,
            ChangeStatus.cancelled,
        }
    ),
    ChangeStatus.referred: frozenset(
        {
            ChangeStatus.analysed,
            ChangeStatus.scheduled,
            ChangeStatus.rejected,
            ChangeStatus.cancelled,
        }
    ),
    ChangeStatus.analysed: frozenset(
        {ChangeStatus.scheduled, ChangeStatus.rejected, ChangeStatus.cancelled}
    ),
    ChangeStatus.scheduled: frozenset({ChangeStatus.completed, ChangeStatus.cancelled}),
    ChangeStatus.completed: frozenset(),
    ChangeStatus.rejected: frozenset(),
    ChangeStatus.cancelled: frozenset(),
}

DATA = ("data",)

DATA_INTERNET = ("data", "managed")

CONNECTIVITY = ("data", "managed", "satellite")


@dataclass(frozen=True, slots=True)
class CatalogItem:
    key: str
    name: str
    description: str
    products: tuple[str, ...]


CATALOG: tuple[CatalogItem, ...] = (
    CatalogItem(
        "bandwidth",
        "Bandwidth change",
        "Upgrade or downgrade of the contracted bandwidth within the port's capacity",
        CONNECTIVITY,
    ),
    CatalogItem(
        "ip_addressing",
        "IP addressing",
        "Add, change or withdraw WAN/LAN IP prefixes (IPv4 or IPv6)",
        DATA_INTERNET,
    ),
    CatalogItem(
        "routing",
        "Routing",
        "Static routes, BGP sessions, prefixes announced or filtered",
        DATA_INTERNET,
    ),
    CatalogItem(
        "qos_profile",
        "QoS/CoS profile",
        "Change of the class-of-service profile or of the share of each class",
        DATA,
    ),
    CatalogItem("vlan", "VLAN", "Add, change or remove a VLAN or its tagging on the access", DATA),
    CatalogItem(
        "dns",
        "DNS records",
        "Reverse DNS (PTR) or hosted records",
        ("data", "managed", "data_center"),
    ),
    CatalogItem(
        "acl_firewall",
        "ACL / firewall rules",
        "Access lists or managed firewall rules",
        ("data", "managed"),
    ),
    CatalogItem("nat", "NAT", "Address translation rules on the managed CPE", ("data", "managed")),
    CatalogItem("dhcp", "DHCP", "DHCP scope or relay on the managed CPE", ("data", "managed")),
    CatalogItem(
        "ddos_protection",
        "DDoS protection profile",
        "Thresholds or mitigation profile of the DDoS protection",
        ("data", "managed"),
    ),
    CatalogItem(
        "satellite_modcod",
        "Satellite MODCOD / carrier plan",
        "Modulation and coding or carrier plan of a satellite link",
        ("satellite",),
    ),
    CatalogItem(
        "satellite_terminal_relocation",
        "Satellite terminal repointing",
        "Repointing or re-commissioning of a VSAT terminal",
        ("satellite",),
    ),
    CatalogItem(
        "monitoring_contacts",
        "Monitoring thresholds and contacts",
        "Alarm thresholds and notified contacts of a managed service",
        ("managed",),
    ),
)

CATALOG_BY_KEY = {item.key: item for item in CATALOG}


def catalog_item(key: str) -> CatalogItem | None:
    return CATALOG_BY_KEY.get(key)


def referral_role(product_lines: set[str]) -> str:
    """Outside the catalogue: managed services go to the service manager (handbook roles),
    everything else to the account manager."""
    return "service_manager" if "managed" in product_lines else "account_manager"
