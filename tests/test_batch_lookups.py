"""A batch's look-ups (the SLA engine's escalation contacts for every (country, level) of a
batch at once) answer exactly as one look-up at a time would."""

from __future__ import annotations

from datetime import UTC, datetime

from app.services.tickets.directory import escalation_contacts, escalation_contacts_of
from tests.support.world import World


async def test_a_batchs_escalation_contacts_are_those_of_one_look_up_at_a_time(
    world: World,
) -> None:
    # Levels past the last one, a country with a matrix (EC) and countries without (their TSC
    # lines), in and out of office hours.
    wanted = [("EC", 1), ("EC", 2), ("EC", 9), ("CO", 1), ("CO", 3), ("PE", 2)]
    for at in (datetime(2026, 3, 4, 15, 0, tzinfo=UTC), datetime(2026, 3, 4, 3, 0, tzinfo=UTC)):
        async with world.sessionmaker() as session:
            one_by_one = {key: await escalation_contacts(session, *key, at) for key in wanted}
            batch = await escalation_contacts_of(session, wanted, at)
        assert batch == one_by_one
        assert {c.office_hours for c in batch.values()} == {at.hour == 15}
        assert [k for k, c in batch.items() if c.fallback] == [("CO", 1), ("CO", 3), ("PE", 2)]
        assert batch[("EC", 9)].matrix_level == 3  # past the last level: the last level
