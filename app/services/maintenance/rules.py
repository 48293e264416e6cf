"""Planned maintenance (GCR) rules: the maintenance window and the notice period.

Standard work keeps to the window (default 00:00-06:00 local time of every
impacted site) and is announced at least the notice period ahead (default 10
calendar days); both are editable per country. Emergency work is exempt and is
marked as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

DEFAULT_WINDOW_START = time(0, 0)

DEFAULT_WINDOW_END = time(6, 0)

DEFAULT_NOTICE_DAYS = 10


class MaintenanceKind(StrEnum):
    standard = "standard"
    emergency = "emergency"


class MaintenanceStatus(StrEnum):
    announced = "announced"
    cancelled = "cancelled"


# An announced GCR may be cancelled; edits keep it announced.
MAINTENANCE_TRANSITIONS: dict[MaintenanceStatus, frozenset[MaintenanceStatus]] = {
    MaintenanceStatus.announced: frozenset({MaintenanceStatus.cancelled}),
    MaintenanceStatus.cancelled: frozenset(),
}


class ExpectedImpact(StrEnum):
    outage = "outage"
    degradation = "degradation"


@dataclass(frozen=True, slots=True)
class MaintenancePolicy:
    country: str
    window_start: time = DEFAULT_WINDOW_START
    window_end: time = DEFAULT_WINDOW_END
    notice_days: int = DEFAULT_NOTICE_DAYS


@dataclass(frozen=True, slots=True)
class RuleBroken:
    rule: str  # "maintenance_window" or "notice_period"
    field: str
    message: str


def _inside_window(start: datetime, end: datetime, policy: MaintenancePolicy) -> bool:
    """Start and end fall in one occurrence of the daily window (which may cross midnight)."""
    ws, we = policy.window_start, policy.window_end
    crosses_midnight = we <= ws
    local_day = start.date()
    if crosses_midnight and start.time() < we:
        local_day = local_day - timedelta(days=1)
    window_open = datetime.combine(local_day, ws, tzinfo=start.tzinfo)
    close_day = local_day + timedelta(days=1) if crosses_midnight else local_day
    window_close = datetime.combine(close_day, we, tzinfo=start.tzinfo)
    return window_open <= start and end <= window_close


def check_standard_work(
    start: datetime,
    end: datetime,
    now: datetime,
    sites: list[tuple[MaintenancePolicy, ZoneInfo]],
) -> list[RuleBroken]:
    """What a standard maintenance breaks, for every impacted site's country."""
    broken: list[RuleBroken] = []
    seen: set[str] = set()
    for policy, zone in sites:
        if policy.country in seen:
            continue
        seen.add(policy.country)
        local_start, local_end = start.astimezone(zone), end.astimezone(zone)
        if not _inside_window(local_start, local_end, policy):
            broken.append(
                RuleBroken(
                    "maintenance_window",
                    "start",
                    f"standard work in {policy.country} must fall inside the maintenance "
                    f"window {policy.window_start:%H:%M}-{policy.window_end:%H:%M} local time "
                    f"({zone.key}); it runs {local_start:%Y-%m-%d %H:%M}-"
                    f"{local_end:%Y-%m-%d %H:%M}",
                )
            )
        if start - now < timedelta(days=policy.notice_days):
            broken.append(
                RuleBroken(
                    "notice_period",
                    "start",
                    f"standard work in {policy.country} needs {policy.notice_days} calendar "
                    f"days of notice; it starts {(start - now).total_seconds() / 86400:.1f} "
                    "days from now",
                )
            )
    return broken


def gcr_number(year: int, sequence: int) -> str:
    return f"GCR-{year:04d}-{sequence:06d}"
