"""Network incidents as pure rules: their statuses and moves, their numbers, and the way a
linked ticket walks to verification when the incident is resolved."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum


class IncidentStatus(StrEnum):
    open = "open"
    resolved = "resolved"


INCIDENT_TRANSITIONS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    IncidentStatus.open: frozenset({IncidentStatus.resolved}),
    IncidentStatus.resolved: frozenset(),
}


class Impact(StrEnum):
    """What the customers observe (MEF's observed impact, the same three words)."""

    down = "down"
    degraded = "degraded"
    intermittent = "intermittent"


def incident_number(year: int, seq: int) -> str:
    return f"INC-{year}-{seq:06d}"


def shortest_path(
    start: str, goal: str, following: Callable[[str], Iterable[str]], avoid: Iterable[str] = ()
) -> list[str]:
    """The moves from `start` to `goal` (`start` left out), fewest first, never through
    `avoid`: [] when `start` is the goal or the goal cannot be reached. Resolving an incident
    walks each linked ticket along the tickets' move table to verification this way."""
    barred = set(avoid)
    paths: list[list[str]] = [[start]]
    seen = {start}
    while paths:
        path = paths.pop(0)
        for step in following(path[-1]):
            if step in barred or step in seen:
                continue
            if step == goal:
                return [*path[1:], step]
            seen.add(step)
            paths.append([*path, step])
    return []
