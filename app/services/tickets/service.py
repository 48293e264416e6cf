"""Trouble tickets: the use cases other features call (the REST routes, TMF621, benchmarks).

Each public function is one transaction and commits it itself.

- `open_ticket(db, caller, clock, claim, payload) -> TicketRead` (`db`: a session, or on the
  REST route the pool's driver connection alone, `core.database.PooledDriver`)
- `get_ticket(db, caller, ticket_id) -> TicketJson` (`TicketRead`'s JSON, ready to send)
- `list_tickets(db, caller, filters, paging) -> bytes` (`Page[TicketRead]`'s JSON)
- `update_ticket(session, caller, clock, ticket_id, payload, if_match) -> TicketRead`
- `move_ticket(session, caller, clock, ticket_id, payload, if_match=None) -> TicketRead`
- `hold_ticket` / `resume_ticket` / `add_note` / `escalate_ticket` -> TicketRead
- `ticket_events(session, caller, ticket_id, paging) -> Page[EventRead]` (in the caller's view)
- `sla_report(session, caller, enterprise_id, start, end) -> SlaReport`
"""

from app.services.tickets.conversation import add_note, escalate_ticket
from app.services.tickets.intake import open_ticket
from app.services.tickets.reads import get_ticket, list_tickets, ticket_events
from app.services.tickets.report import sla_report
from app.services.tickets.workflow import (
    hold_ticket,
    move_ticket,
    resume_ticket,
    update_ticket,
)

__all__ = [
    "add_note",
    "escalate_ticket",
    "get_ticket",
    "hold_ticket",
    "list_tickets",
    "move_ticket",
    "open_ticket",
    "resume_ticket",
    "sla_report",
    "ticket_events",
    "update_ticket",
]
