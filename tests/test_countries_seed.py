"""The countries' reference data is seeded from the handbook, idempotently."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FrozenClock
from app.core.handbook import handbook
from app.models import CityTier, DirectoryLine, EscalationLevel, Office
from app.seeding import seed_reference_data
from app.services.directory.city_tiers import set_city_tier, tier_of
from app.services.directory.escalation import escalation_target, replace_matrix
from app.services.directory.schemas import EscalationMatrixWrite


async def _counts(session: AsyncSession) -> tuple[int, ...]:
    counts = []
    for model in (DirectoryLine, Office, EscalationLevel, CityTier):
        counts.append((await session.execute(select(func.count()).select_from(model))).scalar_one())
    return tuple(counts)


async def test_seeding_again_changes_nothing_and_keeps_admin_edits(
    session: AsyncSession, clock: FrozenClock
) -> None:
    data = handbook()
    before = await _counts(session)
    expected_lines = (
        len(data["tsc_lines"])
        + len(data["billing_lines"])
        + len(data["admin_lines"])
        + len(data["escalation_after_hours"])
    )
    assert before[0] == expected_lines
    assert before[1] == len(data["offices"])

    await replace_matrix(
        session,
        clock,
        "EC",
        EscalationMatrixWrite.model_validate(
            {"levels": [{"level": 1, "role": "Duty manager", "phones": ["+593-2-400-5080"]}]}
        ),
        None,
    )
    await set_city_tier(session, clock, "EC", "Cuenca", "intermediate")
    await seed_reference_data(session, clock)
    await seed_reference_data(session, clock)

    after = await _counts(session)
    assert after[0] == before[0]
    assert after[1] == before[1]
    assert after[3] == before[3]
    target = await escalation_target(session, "EC", 1)
    assert target.role == "Duty manager"
    assert await tier_of(session, "EC", "cuenca") == "intermediate"
