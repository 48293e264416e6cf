"""The incident lifecycle of seed 004 and its SLA arithmetic: stages, the moves allowed between
them, ticket status, clock targets, pauses, warnings, breaches and escalation levels."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum, auto
from typing import Any


class Channel(StrEnum):
    """How a ticket reached the TSC."""

    portal = auto()  # a person signed in (the customer portal, or staff registering a call)
    api = auto()  # a NOC system's API client on /v1
    tmf621 = auto()
    sonata = auto()
    email = auto()


def channel_of(face: Channel | None, *, signed_in: bool) -> Channel:
    """The face a ticket came through names its channel; on /v1, who called does."""
    if face is not None:
        return face
    return Channel.portal if signed_in else Channel.api


class Stage(StrEnum):
    reception = auto()
    registration = auto()
    diagnosis = auto()
    dispatch = auto()
    field_repair = auto()
    verification = auto()
    stability = auto()
    closure = auto()
    closed = auto()
    cancelled = auto()


class Status(StrEnum):
    open = auto()
    waiting_for_customer = auto()
    closed = auto()
    cancelled = auto()


class Severity(StrEnum):
    critical = auto()
    major = auto()
    minor = auto()


# The stages a clock runs in, in handbook order (closed and cancelled have none).
TIMED_STAGES: tuple[Stage, ...] = (
    Stage.reception,
    Stage.registration,
    Stage.diagnosis,
    Stage.dispatch,
    Stage.field_repair,
    Stage.verification,
    Stage.stability,
    Stage.closure,
)

FINAL_STAGES = frozenset({Stage.closed, Stage.cancelled})

# `TT-2026-000123`: the year a ticket was opened and its place in one sequence of the carrier's.
TICKET_NUMBER_PATTERN = r"TT-\d{4}-\d{6,}"


def ticket_number(opened: datetime, sequence: int) -> str:
    return f"TT-{opened.year}-{sequence:06d}"


def ticket_location(ticket_id: uuid.UUID) -> str:
    """The `Location` of a ticket opened through the REST API, on its first answer and on every
    replay of it."""
    return f"/v1/tickets/{ticket_id}"


# The explicit table of forward moves; `cancelled` is allowed from every open stage.
ALLOWED_MOVES: frozenset[tuple[Stage, Stage]] = frozenset(
    {
        (Stage.reception, Stage.registration),
        (Stage.registration, Stage.diagnosis),
        (Stage.diagnosis, Stage.dispatch),
        (Stage.diagnosis, Stage.verification),
        (Stage.dispatch, Stage.field_repair),
        (Stage.field_repair, Stage.verification),
        (Stage.verification, Stage.stability),
        (Stage.stability, Stage.closure),
        (Stage.closure, Stage.closed),
    }
)


def is_allowed(previous: Stage, current: Stage) -> bool:
    """May a ticket in `previous` move to `current`?"""
    match (previous, current):
        case (Stage.closed | Stage.cancelled, _):
            return False
        case (_, Stage.cancelled):
            return True
        case move if move in ALLOWED_MOVES:
            return True
        case _:
            return False


def next_stages(previous: Stage) -> list[Stage]:
    """Where a ticket may go from `previous`, in handbook order (for error messages)."""
    order = [*TIMED_STAGES, Stage.closed, Stage.cancelled]
    return [s for s in order if is_allowed(previous, s)]


def needs_service(stage: Stage) -> bool:
    """Past registration a ticket must name its service: diagnosis works on a known circuit.
    (Cancelling a report that never named one is always allowed.)"""
    return stage not in (Stage.reception, Stage.registration, Stage.cancelled)


def status_after_move(current: Stage) -> Status:
    match current:
        case Stage.closed:
            return Status.closed
        case Stage.cancelled:
            return Status.cancelled
        case _:
            return Status.open


# Not in the handbook: the product's own defaults. Level 1 at the
# breach, level 2 at 150 % of the target, level 3 at 200 %.
DEFAULT_WARNING_RATIO = 0.75

DEFAULT_ESCALATION_RATIOS = (1.0, 1.5, 2.0)

MAX_ESCALATION_LEVEL = 3


class CityTier(StrEnum):
    main = auto()
    intermediate = auto()
    remote = auto()


_DURATION = re.compile(
    r"^P(?!$)(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)

MAX_DURATION = timedelta(days=366)


def parse_duration(text: str) -> timedelta:
    """`PT1M`, `PT1H30M`, `P1DT2H`, `PT0.5S`. Years and months (of no fixed length) are refused."""
    match = _DURATION.match(text.strip().upper()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as PT4M or PT1H30M")
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    value = timedelta(
        weeks=parts["w"], days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"]
    )
    if value <= timedelta(0):
        raise ValueError(f"{text!r} is not a positive duration")
    if value > MAX_DURATION:
        raise ValueError(f"{text!r} is longer than a year")
    return value


def format_duration(value: timedelta) -> str:
    """The shortest ISO 8601 form: 60 s → `PT1M`, 5400 s → `PT1H30M`, 1.5 s → `PT1.5S`."""
    total = value.total_seconds()
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    out = "P" + (f"{int(days)}D" if days else "")
    time = ""
    if hours:
        time += f"{int(hours)}H"
    if minutes:
        time += f"{int(minutes)}M"
    if seconds or not (days or hours or minutes):
        secs = round(seconds, 6)
        time += f"{int(secs)}S" if secs == int(secs) else f"{secs:g}S"
    return out + ("T" + time if time else "")


POLICY_STAGES: tuple[Stage, ...] = tuple(s for s in TIMED_STAGES if s is not Stage.dispatch)


@dataclass(frozen=True)
class Policy:
    """A country's SLA: a target per stage, dispatch per city tier (None: the engineer's ETA)."""

    targets: Mapping[Stage, timedelta | None]
    dispatch: Mapping[CityTier, timedelta | None]
    warning_ratio: float = DEFAULT_WARNING_RATIO
    escalation_ratios: tuple[float, ...] = DEFAULT_ESCALATION_RATIOS

    def __post_init__(self) -> None:
        check_ratios(self.warning_ratio, self.escalation_ratios)


def check_ratios(warning_ratio: float, escalation_ratios: Sequence[float]) -> None:
    if not 0 < warning_ratio < 1:
        raise ValueError("warning_ratio must be between 0 and 1 (a share of the target)")
    if len(escalation_ratios) != MAX_ESCALATION_LEVEL:
        raise ValueError("escalation_ratios needs one ratio for each of levels 1, 2 and 3")
    if escalation_ratios[0] < 1:
        raise ValueError("level 1 comes at the breach or later: its ratio is at least 1.0")
    if any(b < a for a, b in itertools.pairwise(escalation_ratios)):
        raise ValueError("escalation_ratios must not decrease from level to level")
    if escalation_ratios[-1] > 100:
        raise ValueError("escalation_ratios above 100 make no sense")


def _optional_duration(text: str) -> timedelta | None:
    try:
        return parse_duration(text)
    except ValueError:
        return None  # "by city tier", "none: … the engineer sets the ETA"


def handbook_policy(lifecycle: Mapping[str, Any]) -> Policy:
    """The default policy, read from the handbook's `[incident_lifecycle]` table."""
    targets: dict[Stage, timedelta | None] = {}
    for item in lifecycle["stages"]:
        stage = Stage(item["key"])
        if stage in POLICY_STAGES:
            targets[stage] = _optional_duration(item["target"])
    dispatch = {
        CityTier(item["tier"]): _optional_duration(item["target"])
        for item in lifecycle["city_tiers"]
    }
    return Policy(targets=targets, dispatch=dispatch)


# A ticket whose service is not named yet: its clocks follow this tier (a city not listed as
# main is intermediate, so this is what most sites are) until the TSC names the service.
DEFAULT_CITY_TIER = CityTier.intermediate


@dataclass(frozen=True)
class SlaTerms:
    """Which SLA terms a ticket's clocks follow: a country's policy and a city tier."""

    country: str
    city_tier: CityTier


def sla_terms(
    *,
    enterprise_country: str,
    service_country: str | None,
    service_city_tier: CityTier | None,
) -> SlaTerms:
    """The one rule for which terms apply. The service's own site decides (its country and its
    city's tier): the customer's contract is for that service there. Until the service is named,
    the enterprise's country and the default tier. A site the reporter writes on the ticket is
    information for the field engineer, never a choice of terms: it is not an argument here."""
    if service_country is None:
        return SlaTerms(enterprise_country, DEFAULT_CITY_TIER)
    return SlaTerms(service_country, service_city_tier or DEFAULT_CITY_TIER)


class EtaRequired(ValueError):
    """Entering dispatch at a site whose tier has no target needs the engineer's ETA."""


def target_for(
    policy: Policy,
    stage: Stage,
    tier: CityTier,
    started_at: datetime,
    eta: datetime | None = None,
) -> timedelta | None:
    """The target a clock for `stage` starts with. None: the stage has no target."""
    if stage is Stage.dispatch:
        target = policy.dispatch.get(tier)
        if eta is not None:
            if eta <= started_at:
                raise ValueError("eta must be in the future")
            if eta - started_at > MAX_DURATION:
                raise ValueError("eta must be within a year")
            return eta - started_at
        if target is None:
            raise EtaRequired(f"dispatch to a {tier.value} site needs the engineer's eta")
        return target
    return policy.targets.get(stage)


@dataclass(frozen=True)
class ClockView:
    """What the engine needs to know of a running clock."""

    started_at: datetime
    target: timedelta | None
    paused: timedelta
    warning_ratio: float
    escalation_ratios: tuple[float, ...]
    warned: bool = False
    breached: bool = False
    escalation_level: int = 0


def instant(clock: ClockView, ratio: float) -> datetime:
    """When `ratio` of the target has run, paused time not counted."""
    assert clock.target is not None
    return clock.started_at + clock.paused + clock.target * ratio


def due_at(started_at: datetime, target: timedelta | None, paused: timedelta) -> datetime | None:
    return None if target is None else started_at + paused + target


@dataclass(frozen=True)
class Step:
    """What has fallen due at `now`, and when to look at this clock next (None: never)."""

    warn: bool = False
    breach: bool = False
    escalate_to: list[int] = field(default_factory=list)
    next_due_at: datetime | None = None


def thresholds(clock: ClockView) -> list[tuple[str, int, datetime]]:
    """Every threshold not yet passed, as (kind, level, instant), earliest first."""
    if clock.target is None:
        return []
    out: list[tuple[str, int, datetime]] = []
    if not clock.warned and not clock.breached:
        out.append(("warning", 0, instant(clock, clock.warning_ratio)))
    if not clock.breached:
        out.append(("breach", 0, instant(clock, 1.0)))
    for level, ratio in enumerate(clock.escalation_ratios, start=1):
        if level > clock.escalation_level:
            out.append(("escalation", level, instant(clock, ratio)))
    order = {"warning": 0, "breach": 1, "escalation": 2}
    return sorted(out, key=lambda t: (t[2], order[t[0]], t[1]))


def next_due(clock: ClockView) -> datetime | None:
    pending = thresholds(clock)
    return pending[0][2] if pending else None


def step(clock: ClockView, now: datetime) -> Step:
    """The thresholds passed by `now` (each fires once: the caller records them), and the next."""
    pending = thresholds(clock)
    passed = [t for t in pending if t[2] <= now]
    later = [t for t in pending if t[2] > now]
    breach = any(kind == "breach" for kind, _, _ in passed)
    # A warning overtaken by its breach in the same step is not sent: the breach says more.
    warn = any(kind == "warning" for kind, _, _ in passed) and not breach
    levels = sorted(level for kind, level, _ in passed if kind == "escalation")
    return Step(
        warn=warn,
        breach=breach,
        escalate_to=levels,
        next_due_at=later[0][2] if later else None,
    )


def paused_after_resume(paused: timedelta, paused_at: datetime, resumed_at: datetime) -> timedelta:
    """A hold adds its length to the clock's paused time (never a negative length)."""
    return paused + max(resumed_at - paused_at, timedelta(0))


def outcome_at_completion(due: datetime | None, completed_at: datetime, breached: bool) -> str:
    """A clock that ends: `met` when it ended by its due time and was never breached."""
    if breached or (due is not None and completed_at > due):
        return "breached"
    return "met"


def firing_order(
    due_at: datetime | None, breached_at: datetime | None, next_due_at: datetime, now: datetime
) -> datetime:
    """Where a claimed clock goes in the engine's batch: its breach instant once that has
    passed unrecorded, else the next threshold it reaches. A clock catching up (a worker or the
    database was away) may pass its warning and its breach at once; it takes its place by its
    breach, so that breaches are recorded in the order they fell due."""
    if due_at is not None and breached_at is None and due_at <= now:
        return due_at
    return next_due_at
