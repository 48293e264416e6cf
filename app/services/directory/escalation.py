"""Escalation matrices per country; with none, escalation falls back to the TSC lines."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.database import driver_connection
from app.core.errors import field_error
from app.core.etag import check_if_match
from app.core.handbook import handbook
from app.core.row_versions import new_version
from app.models import EscalationLevel, EscalationMatrix
from app.services.calendars.service import require_country
from app.services.directory.rules import PhoneNumber, phone, to_e164
from app.services.directory.schemas import (
    EscalationLevelRead,
    EscalationMatrixRead,
    EscalationMatrixWrite,
    EscalationTarget,
)
from app.services.directory.service import support_lines

FALLBACK_ROLE = "Technical Service Center"


async def _matrix(
    session: AsyncSession, country: str
) -> tuple[EscalationMatrix | None, list[EscalationLevel]]:
    matrix = (
        await session.execute(select(EscalationMatrix).where(EscalationMatrix.country == country))
    ).scalar_one_or_none()
    if matrix is None:
        return None, []
    levels = (
        await session.execute(
            select(EscalationLevel)
            .where(EscalationLevel.country == country)
            .order_by(EscalationLevel.level)
        )
    ).scalars()
    return matrix, list(levels)


async def _tsc_phones(session: AsyncSession, country: str) -> list[PhoneNumber]:
    phones: list[PhoneNumber] = []
    for line in await support_lines(session, country):
        if line.toll_free is not None:
            phones.append(line.toll_free)
        phones.extend(line.local)
    return list({p.display: p for p in phones}.values())


async def get_matrix(session: AsyncSession, country: str) -> EscalationMatrixRead:
    code = require_country(country, "country")
    matrix, levels = await _matrix(session, code)
    if not levels:
        return EscalationMatrixRead(
            country=code,
            levels=[],
            after_hours=phone(matrix.after_hours, code) if matrix and matrix.after_hours else None,
            fallback=True,
            fallback_lines=await support_lines(session, code),
            version=matrix.version if matrix else None,
        )
    assert matrix is not None
    return EscalationMatrixRead(
        country=code,
        levels=[
            EscalationLevelRead(
                level=lv.level, role=lv.role, phones=[phone(p, code) for p in lv.phones]
            )
            for lv in levels
        ],
        after_hours=phone(matrix.after_hours, code) if matrix.after_hours else None,
        fallback=False,
        version=matrix.version,
    )


async def escalation_target(session: AsyncSession, country: str, level: int) -> EscalationTarget:
    """Whom to call at `level` (1-based). Past the last level: the last level.

    With no matrix for the country, the TSC lines, marked `fallback`.
    """
    return (await escalation_targets(session, [(country, level)]))[(country, level)]


class _Level(NamedTuple):
    """A level of a matrix, as `_MATRICES` reads it."""

    level: int
    role: str
    phones: list[str]


# The matrices of a set of countries (one array: one prepared statement whatever their
# number) with their levels, in level order (a matrix with no levels comes as one row of NULL
# level); plain SQL on the driver, as the SLA engine asks it on every batch that escalates.
_MATRICES = """
SELECT m.country, m.after_hours, l.level, l.role, l.phones
FROM escalation_matrices m
LEFT JOIN escalation_levels l ON l.country = m.country
WHERE m.country = ANY($1::varchar[])
ORDER BY m.country, l.level
"""


async def escalation_targets(
    session: AsyncSession, wanted: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], EscalationTarget]:
    """`escalation_target` of every `(country, level)` asked (keyed as asked): the matrices in
    one statement, the TSC lines once per country that has none."""
    keys = {key: require_country(key[0]) for key in wanted}
    if not keys:
        return {}
    matrices: dict[str, tuple[str | None, list[Any]]] = {}
    codes = sorted(set(keys.values()))
    driver = await driver_connection(session)
    for country, after_hours_text, level, role, phones in await driver.fetch(_MATRICES, codes):
        entry = matrices.setdefault(country, (after_hours_text, []))
        if level is not None:
            entry[1].append(_Level(level, role, phones))
    fallback: dict[str, list[PhoneNumber]] = {}
    targets: dict[tuple[str, int], EscalationTarget] = {}
    for key, code in keys.items():
        level = key[1]
        after_hours_text, levels = matrices.get(code, (None, []))
        after_hours = phone(after_hours_text, code) if after_hours_text else None
        if not levels:
            if code not in fallback:
                fallback[code] = await _tsc_phones(session, code)
            targets[key] = EscalationTarget(
                level=level,
                role=FALLBACK_ROLE,
                phones=fallback[code],
                after_hours=after_hours,
                fallback=True,
            )
            continue
        chosen = next((lv for lv in levels if lv.level >= level), levels[-1])
        targets[key] = EscalationTarget(
            level=chosen.level,
            role=chosen.role,
            phones=[phone(p, code) for p in chosen.phones],
            after_hours=after_hours,
            fallback=False,
        )
    return targets


def _check_phone(text: str, country: str, field: str) -> None:
    if to_e164(text, country) is None:
        raise field_error(field, f"{text!r} is not a valid phone number for {country}")


async def replace_matrix(
    session: AsyncSession,
    clock: Clock,
    country: str,
    payload: EscalationMatrixWrite,
    if_match: str | None,
) -> EscalationMatrixRead:
    """Provider admins replace a country's matrix; no levels: fall back to the TSC lines."""
    code = require_country(country)
    numbers = [lv.level for lv in payload.levels]
    if len(set(numbers)) != len(numbers):
        raise field_error("levels", "a level is listed twice")
    if sorted(numbers) != list(range(1, len(numbers) + 1)):
        raise field_error("levels", "levels must be numbered 1, 2, 3… without gaps")
    for i, lv in enumerate(payload.levels):
        for j, number in enumerate(lv.phones):
            _check_phone(number, code, f"levels.{i}.phones.{j}")
    if payload.after_hours is not None:
        _check_phone(payload.after_hours, code, "after_hours")
    matrix = (
        await session.execute(
            select(EscalationMatrix).where(EscalationMatrix.country == code).with_for_update()
        )
    ).scalar_one_or_none()
    now = clock.now()
    if matrix is None:
        matrix = EscalationMatrix(country=code, version=0, updated_at=now)
        session.add(matrix)
    else:
        check_if_match(if_match, matrix.version)
    matrix.after_hours = payload.after_hours
    new_version(matrix, now)
    await session.flush()
    await session.execute(delete(EscalationLevel).where(EscalationLevel.country == code))
    if payload.levels:
        await session.execute(
            insert(EscalationLevel).values(
                [
                    {"country": code, "level": lv.level, "role": lv.role, "phones": lv.phones}
                    for lv in sorted(payload.levels, key=lambda lv: lv.level)
                ]
            )
        )
    await session.commit()
    return await get_matrix(session, code)


async def seed_escalation(session: AsyncSession, clock: Clock) -> None:
    """The handbook's matrices (roles and desk lines only), for countries that have none yet."""
    data = handbook()
    by_country: dict[str, list[dict[str, object]]] = {}
    for entry in data.get("escalation", []):
        by_country.setdefault(entry["country"], []).append(entry)
    after_hours: dict[str, str] = data.get("escalation_after_hours", {})
    for country, entries in by_country.items():
        created = await session.execute(
            insert(EscalationMatrix)
            .values(
                country=country,
                after_hours=after_hours.get(country),
                version=1,
                updated_at=clock.now(),
            )
            .on_conflict_do_nothing()
            .returning(EscalationMatrix.country)
        )
        if created.scalar_one_or_none() is None:
            continue  # already seeded, perhaps edited since: leave it
        await session.execute(
            insert(EscalationLevel).values(
                [
                    {
                        "country": country,
                        "level": e["level"],
                        "role": e["role"],
                        "phones": e["desk"],
                    }
                    for e in entries
                ]
            )
        )
