"""An event's id is drawn only once its transaction has an xid, in every form that writes
events: so a reader that sees the id drawn sees the transaction running (`EventWatermark`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from app.core.database import create_engine, create_sessionmaker
from app.core.events import NewEvent, record_event, record_events
from app.services.tickets.events import TicketEventType
from tests.support.events import ticket_event
from tests.support.processes import libpq_url

# A BEFORE INSERT trigger runs after the row's id was drawn and before the row itself takes
# an xid: it sees whether the statement had given the transaction one before the draw.
PROBE = """
CREATE TABLE xid_probe (event_id bigint, had_xid boolean);
CREATE FUNCTION probe_xid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO xid_probe VALUES (NEW.id, pg_current_xact_id_if_assigned() IS NOT NULL);
  RETURN NEW;
END $$;
CREATE TRIGGER probe_xid BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION probe_xid();
"""


async def test_every_event_id_is_drawn_after_its_transaction_has_an_xid(
    fresh_database: str,
) -> None:
    admin = await asyncpg.connect(libpq_url(fresh_database))
    engine = create_engine(fresh_database, pool_size=2)
    maker = create_sessionmaker(engine)
    try:
        await admin.execute(PROBE)
        at = datetime.now(UTC)
        async with maker() as session:  # a transaction whose first write is the event
            await record_event(
                session,
                ticket_event(TicketEventType.updated),
                subject_id=uuid.uuid4(),
                at=at,
                actor="test",
                enterprise_id=None,
            )
            await session.commit()
        async with maker() as session:
            batch = [NewEvent(ticket_event(TicketEventType.updated), uuid.uuid4(), None)] * 3
            await record_events(session, batch, at=at, actor="test")
            await session.commit()
        probes = await admin.fetch("SELECT event_id, had_xid FROM xid_probe ORDER BY event_id")
        assert [p["had_xid"] for p in probes] == [True] * 4
    finally:
        await engine.dispose()
        await admin.close()
