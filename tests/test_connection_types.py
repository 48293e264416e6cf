"""A new connection looks up the array types the driver statements use once, when it opens,
not in the middle of the first SLA sweep or fan-out batch that meets them (a catalog round
trip each, 5-20 ms under load)."""

from __future__ import annotations

from app.core import events
from app.core.database import create_engine, create_sessionmaker, driver_connection
from app.services.delivery import fanout, notifications
from app.services.tickets import engine as sla_engine

# The driver statements of the SLA engine and the fan-out, which send and read arrays.
STATEMENTS = {
    "sla claim": sla_engine._CLAIM,
    "sla batch write": sla_engine._WRITE_BATCH,
    "event batch": events._RECORD_MANY,
    "fan-out claim": fanout._CLAIM,
    "fan-out endpoints": fanout._ENDPOINTS,
    "fan-out deliveries": fanout._NEW_DELIVERIES,
    "fan-out processed": fanout._PROCESSED,
    "mail rows": notifications._NEW_MAILS,
}


async def test_the_driver_statements_meet_no_type_unknown_to_a_new_connection(
    fresh_database: str,
) -> None:
    engine = create_engine(fresh_database, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            driver = await driver_connection(session)
            sent: list[str] = []
            driver.add_query_logger(lambda record: sent.append(record.query))
            for name, sql in STATEMENTS.items():
                await driver.prepare(sql)
                look_ups = [q for q in sent if "typeinfo" in q]
                assert not look_ups, f"{name}: a catalog look-up of its types"
                sent.clear()
    finally:
        await engine.dispose()
